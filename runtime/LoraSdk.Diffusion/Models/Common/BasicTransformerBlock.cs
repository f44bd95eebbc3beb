using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>BasicTransformerBlock</c> with <c>norm_type="layer_norm"</c>: <c>norm1</c> + <c>attn1</c>
/// (self-attention), <c>norm2</c> + <c>attn2</c> (cross-attention to the text), <c>norm3</c> + <c>ff</c> (GEGLU).
/// </summary>
public sealed class BasicTransformerBlock : DiffusersModule
{
    private readonly LayerNorm _norm1;
    private readonly Attention _attn1;
    private readonly LayerNorm? _norm2;
    private readonly Attention? _attn2;
    private readonly LayerNorm _norm3;
    private readonly FeedForward _ff;

    /// <summary>Creates the block.</summary>
    /// <param name="dim">Token width (= heads × head width).</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="headDim">Width of one head.</param>
    /// <param name="crossAttentionDim">Text width, or null for no cross-attention.</param>
    /// <param name="normEps">LayerNorm epsilon.</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public BasicTransformerBlock(long dim, int numHeads, int headDim, long? crossAttentionDim, double normEps, ModelPlacement placement)
        : base(nameof(BasicTransformerBlock))
    {
        _norm1 = Register("norm1", nn.LayerNorm(dim, normEps, true, true, placement.Device, placement.DType));
        _attn1 = Register("attn1", new Attention(dim, null, numHeads, headDim, false, true, null, 1e-5, false, 1.0, placement));
        if (crossAttentionDim is long cross)
        {
            _norm2 = Register("norm2", nn.LayerNorm(dim, normEps, true, true, placement.Device, placement.DType));
            _attn2 = Register("attn2", new Attention(dim, cross, numHeads, headDim, false, true, null, 1e-5, false, 1.0, placement));
        }
        _norm3 = Register("norm3", nn.LayerNorm(dim, normEps, true, true, placement.Device, placement.DType));
        _ff = Register("ff", new FeedForward(dim, null, 4, true, placement));
    }

    /// <summary>Applies the block to (B, N, dim) tokens with (B, L, text) context.</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = _attn1.Forward(_norm1.call(hiddenStates)) + hiddenStates;
        if (_attn2 is not null)
            h = _attn2.Forward(_norm2!.call(h), encoderHiddenStates) + h;
        h = _ff.call(_norm3.call(h)) + h;
        return h.MoveToOuterDisposeScope();
    }
}
