using LoraSdk.Diffusion.Models.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>
/// transformers' <c>T5LayerNorm</c>: RMS norm without mean subtraction or bias; the variance is computed in float32,
/// the result is cast to the weight's dtype when that is half precision, then scaled by <c>weight</c>.
/// </summary>
public sealed class T5LayerNorm : DiffusersModule<Tensor, Tensor>
{
    private readonly Parameter _weight;
    private readonly double _eps;

    /// <summary>Creates the norm (weight initialised to ones).</summary>
    public T5LayerNorm(long hiddenSize, double eps, ModelPlacement placement) : base(nameof(T5LayerNorm))
    {
        _eps = eps;
        _weight = new Parameter(ones(new[] { hiddenSize }, placement.DType, placement.Device));
        register_parameter("weight", _weight);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor variance = hiddenStates.to_type(ScalarType.Float32).pow(2).mean(new long[] { -1 }, keepdim: true);
        Tensor h = hiddenStates * rsqrt(variance + _eps);
        if (_weight.dtype is ScalarType.Float16 or ScalarType.BFloat16) h = h.to_type(_weight.dtype);
        return (_weight * h).MoveToOuterDisposeScope();
    }
}
