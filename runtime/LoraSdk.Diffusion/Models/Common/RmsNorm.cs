using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// <c>torch.nn.RMSNorm</c> over the last dimension with a learned <c>weight</c> (no bias, no mean subtraction):
/// <c>x · rsqrt(mean(x²) + eps) · weight</c>, computed in float32 for half-precision inputs and cast back.
/// </summary>
public sealed class RmsNorm : DiffusersModule<Tensor, Tensor>
{
    private readonly Parameter _weight;
    private readonly double _eps;

    /// <summary>Creates the norm over <paramref name="dim"/> features (weight initialised to ones).</summary>
    public RmsNorm(long dim, double eps, ModelPlacement placement) : base(nameof(RmsNorm))
    {
        _eps = eps;
        _weight = new Parameter(ones(new[] { dim }, placement.DType, placement.Device));
        register_parameter("weight", _weight);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        bool reduced = input.dtype is ScalarType.Float16 or ScalarType.BFloat16;
        Tensor x = reduced ? input.to_type(ScalarType.Float32) : input;
        Tensor normalized = x * rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps);
        return (normalized.to_type(input.dtype) * _weight).MoveToOuterDisposeScope();
    }
}
