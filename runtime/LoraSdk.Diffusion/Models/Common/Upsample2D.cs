using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Upsample2D</c> with <c>use_conv=True</c>: nearest-neighbour ×2 (or to an explicit size) then a
/// 3×3 convolution <c>conv</c>.
/// </summary>
public sealed class Upsample2D : DiffusersModule
{
    private readonly LoraConv2d _conv;

    /// <summary>Creates the up-sampler.</summary>
    public Upsample2D(long channels, long outChannels, ModelPlacement placement) : base(nameof(Upsample2D))
    {
        _conv = Register("conv", new LoraConv2d(channels, outChannels, 3, 1, 1, true, placement.DType, placement.Device));
    }

    /// <summary>Up-samples by 2, or to <paramref name="outputSize"/> (H, W) when given.</summary>
    public Tensor Forward(Tensor input, long[]? outputSize = null)
    {
        using var scope = NewDisposeScope();
        Tensor h = outputSize is null
            ? nn.functional.interpolate(input, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(input, size: outputSize, mode: InterpolationMode.Nearest);
        return _conv.call(h).MoveToOuterDisposeScope();
    }
}
