using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>AdaLayerNormContinuous</c> as Flux's <c>norm_out</c> uses it (layer norm without affine parameters,
/// eps 1e-6): <c>linear</c> projects SiLU(conditioning) to scale and shift (in that order).
/// </summary>
public sealed class AdaLayerNormContinuous : DiffusersModule
{
    private readonly LoraLinear _linear;
    private readonly long _dim;

    /// <summary>Creates the norm.</summary>
    public AdaLayerNormContinuous(long embeddingDim, long conditioningEmbeddingDim, ModelPlacement placement)
        : base(nameof(AdaLayerNormContinuous))
    {
        _dim = embeddingDim;
        _linear = Register("linear", new LoraLinear(conditioningEmbeddingDim, 2 * embeddingDim, true, placement.DType, placement.Device));
    }

    /// <summary>Returns <c>norm(x)·(1 + scale) + shift</c>.</summary>
    public Tensor Forward(Tensor x, Tensor conditioningEmbedding)
    {
        using var scope = NewDisposeScope();
        Tensor[] m = _linear.call(nn.functional.silu(conditioningEmbedding).to_type(x.dtype)).chunk(2, 1);
        Tensor normed = nn.functional.layer_norm(x, new[] { _dim }, null, null, 1e-6);
        return (normed * (1 + m[0]).unsqueeze(1) + m[1].unsqueeze(1)).MoveToOuterDisposeScope();
    }
}
