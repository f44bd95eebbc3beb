using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>FluxSingleTransformerBlock</c> (single stream over text + image tokens): <c>norm</c>
/// (<see cref="AdaLayerNormZeroSingle"/>), <c>proj_mlp</c> (D → 4D, tanh-GELU), <c>proj_out</c> (5D → D over the
/// concatenated attention and MLP outputs), <c>attn</c> (<see cref="FluxAttention"/> without output projection).
/// </summary>
public sealed class FluxSingleTransformerBlock : DiffusersModule
{
    private readonly AdaLayerNormZeroSingle _norm;
    private readonly LoraLinear _projMlp;
    private readonly LoraLinear _projOut;
    private readonly FluxAttention _attn;

    /// <summary>Creates the block (<c>mlp_ratio</c> 4).</summary>
    public FluxSingleTransformerBlock(long dim, int heads, int headDim, ModelPlacement placement) : base(nameof(FluxSingleTransformerBlock))
    {
        long mlpHidden = dim * 4;
        _norm = Register("norm", new AdaLayerNormZeroSingle(dim, placement));
        _projMlp = Register("proj_mlp", new LoraLinear(dim, mlpHidden, true, placement.DType, placement.Device));
        _projOut = Register("proj_out", new LoraLinear(dim + mlpHidden, dim, true, placement.DType, placement.Device));
        _attn = Register("attn", new FluxAttention(dim, heads, headDim, joint: false, preOnly: true, eps: 1e-6, placement));
    }

    /// <summary>Returns the new (text, image) hidden states.</summary>
    public (Tensor Text, Tensor Image) Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor temb, (Tensor Cos, Tensor Sin) rope)
    {
        using var scope = NewDisposeScope();
        long textLength = encoderHiddenStates.shape[1];
        Tensor h = cat(new[] { encoderHiddenStates, hiddenStates }, 1);
        Tensor residual = h;
        var (normed, gate) = _norm.Forward(h, temb);
        Tensor mlp = nn.functional.gelu(_projMlp.call(normed), TorchSharp.Modules.GELU.Approximate.tanh);
        var (attnOutput, _) = _attn.Forward(normed, null, rope);
        h = cat(new[] { attnOutput, mlp }, 2);
        h = gate.unsqueeze(1) * _projOut.call(h);
        h = residual + h;
        if (h.dtype == ScalarType.Float16) h = h.clip(-65504, 65504);
        Tensor text = h.narrow(1, 0, textLength);
        Tensor image = h.narrow(1, textLength, h.shape[1] - textLength);
        return (text.MoveToOuterDisposeScope(), image.MoveToOuterDisposeScope());
    }
}
