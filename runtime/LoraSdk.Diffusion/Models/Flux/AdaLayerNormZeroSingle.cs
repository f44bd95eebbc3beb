using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>AdaLayerNormZeroSingle</c>: <c>linear</c> projects SiLU(temb) to shift, scale and gate; returns
/// the modulated layer norm (no affine parameters, eps 1e-6) and the gate.
/// </summary>
public sealed class AdaLayerNormZeroSingle : DiffusersModule
{
    private readonly LoraLinear _linear;
    private readonly long _dim;

    /// <summary>Creates the norm for <paramref name="embeddingDim"/> channels.</summary>
    public AdaLayerNormZeroSingle(long embeddingDim, ModelPlacement placement) : base(nameof(AdaLayerNormZeroSingle))
    {
        _dim = embeddingDim;
        _linear = Register("linear", new LoraLinear(embeddingDim, 3 * embeddingDim, true, placement.DType, placement.Device));
    }

    /// <summary>Returns <c>(norm(x)·(1 + scale) + shift, gate)</c>.</summary>
    public (Tensor Normed, Tensor Gate) Forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        Tensor[] m = _linear.call(nn.functional.silu(emb)).chunk(3, 1);
        Tensor normed = nn.functional.layer_norm(x, new[] { _dim }, null, null, 1e-6);
        normed = normed * (1 + m[1].unsqueeze(1)) + m[0].unsqueeze(1);
        return (normed.MoveToOuterDisposeScope(), m[2].MoveToOuterDisposeScope());
    }
}
