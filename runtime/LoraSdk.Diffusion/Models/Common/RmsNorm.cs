using LoraSdk.Gpu;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// <c>torch.nn.RMSNorm</c> over the last dimension with a learned <c>weight</c> (no bias, no mean subtraction):
/// <c>x · rsqrt(mean(x²) + eps) · weight</c>, computed in float32 inside one kernel and rounded once to the input's
/// dtype, as PyTorch's fused <c>rms_norm</c> (what diffusers' Flux attention calls) does.
/// </summary>
/// <remarks>
/// TorchSharp binds no <c>rms_norm</c>. On CUDA, when LoraSdk's native library (<c>native/</c>, the one CUDA graphs
/// use) is there, the norm is libtorch's own fused <c>rms_norm</c> through it (<see cref="CudaGraphRuntime.RmsNorm"/>):
/// the kernel diffusers runs. Otherwise (the CPU, or no native library) it is composed from TorchSharp ops. Written out (upcast, pow, mean, add, rsqrt, multiply, downcast, weight) it is
/// eight kernels and three float32 round trips over the tensor — for the FLUX.1-dev step (q and k of every block,
/// ~1.6 G elements) ~58 GB of memory traffic, ~15 ms on an H200, most of the measured gap to diffusers. Instead it is
/// <c>layer_norm</c> over the row <c>[x, −x]</c> of twice the width: that row's mean is 0 and its (biased) variance is
/// mean(x²), so its first half is exactly <c>x · rsqrt(mean(x²) + eps) · weight</c>, with layer_norm's float32
/// accumulation and one rounding. Four kernels (negate, concatenate, the tiny weight concatenation, layer_norm) and
/// ~20 bytes of traffic per element instead of ~36. The result is a view (the first half of the last dimension).
/// </remarks>
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
        if (input.device_type == DeviceType.CUDA && CudaGraphRuntime.TryLoad() is { } native)
            return native.RmsNorm(input, _weight, _eps);
        using var scope = NewDisposeScope();
        long dim = input.shape[^1];
        Tensor mirrored = cat(new[] { input, input.neg() }, -1);
        Tensor weight = cat(new Tensor[] { _weight, _weight }, 0);
        Tensor normalized = nn.functional.layer_norm(mirrored, new[] { 2 * dim }, weight, null, _eps);
        return normalized.narrow(-1, 0, dim).MoveToOuterDisposeScope();
    }
}
