using LoraSdk.Diffusion.Models.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>FluxTransformerBlock</c> (double stream, MMDiT): <c>norm1</c>, <c>norm1_context</c>
/// (<see cref="AdaLayerNormZero"/>), <c>attn</c> (joint <see cref="FluxAttention"/>), <c>norm2</c>, <c>ff</c>,
/// <c>norm2_context</c>, <c>ff_context</c> (tanh-GELU feed-forwards). Image and text streams keep separate weights
/// and meet in the attention.
/// </summary>
public sealed class FluxTransformerBlock : DiffusersModule
{
    private readonly long _dim;
    private readonly AdaLayerNormZero _norm1;
    private readonly AdaLayerNormZero _norm1Context;
    private readonly FluxAttention _attn;
    private readonly GeluFeedForward _ff;
    private readonly GeluFeedForward _ffContext;

    /// <summary>Creates the block.</summary>
    public FluxTransformerBlock(long dim, int heads, int headDim, ModelPlacement placement) : base(nameof(FluxTransformerBlock))
    {
        _dim = dim;
        _norm1 = Register("norm1", new AdaLayerNormZero(dim, placement));
        _norm1Context = Register("norm1_context", new AdaLayerNormZero(dim, placement));
        _attn = Register("attn", new FluxAttention(dim, heads, headDim, joint: true, preOnly: false, eps: 1e-6, placement));
        _ff = Register("ff", new GeluFeedForward(dim, dim, 4, tanhApproximation: true, bias: true, placement));
        _ffContext = Register("ff_context", new GeluFeedForward(dim, dim, 4, tanhApproximation: true, bias: true, placement));
    }

    /// <summary>Returns the new (text, image) hidden states.</summary>
    public (Tensor Text, Tensor Image) Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor temb, (Tensor Cos, Tensor Sin) rope)
    {
        using var scope = NewDisposeScope();
        var (normed, gateMsa, shiftMlp, scaleMlp, gateMlp) = _norm1.Forward(hiddenStates, temb);
        var (normedContext, cGateMsa, cShiftMlp, cScaleMlp, cGateMlp) = _norm1Context.Forward(encoderHiddenStates, temb);
        var (attnOutput, contextAttnOutput) = _attn.Forward(normed, normedContext, rope);

        Tensor h = hiddenStates + gateMsa.unsqueeze(1) * attnOutput;
        Tensor n = LayerNorm(h) * (1 + scaleMlp.unsqueeze(1)) + shiftMlp.unsqueeze(1);
        h = h + gateMlp.unsqueeze(1) * _ff.call(n);

        Tensor e = encoderHiddenStates + cGateMsa.unsqueeze(1) * contextAttnOutput!;
        Tensor ne = LayerNorm(e) * (1 + cScaleMlp.unsqueeze(1)) + cShiftMlp.unsqueeze(1);
        e = e + cGateMlp.unsqueeze(1) * _ffContext.call(ne);
        if (e.dtype == ScalarType.Float16) e = e.clip(-65504, 65504);
        return (e.MoveToOuterDisposeScope(), h.MoveToOuterDisposeScope());
    }

    private Tensor LayerNorm(Tensor x) => nn.functional.layer_norm(x, new[] { _dim }, null, null, 1e-6);
}
