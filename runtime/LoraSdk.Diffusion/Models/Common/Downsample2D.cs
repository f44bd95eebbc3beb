using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Downsample2D</c> with <c>use_conv=True, name="op"</c>: a stride-2 3×3 convolution <c>conv</c>;
/// with <c>padding=0</c> the input is first padded by one on the right and bottom.
/// </summary>
public sealed class Downsample2D : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraConv2d _conv;
    private readonly long _padding;

    /// <summary>Creates the down-sampler.</summary>
    public Downsample2D(long channels, long outChannels, long padding, ModelPlacement placement)
        : base(nameof(Downsample2D))
    {
        _padding = padding;
        _conv = Register("conv", new LoraConv2d(channels, outChannels, 3, 2, padding, true, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (_padding != 0) return _conv.call(input);
        using var padded = nn.functional.pad(input, new long[] { 0, 1, 0, 1 }, PaddingModes.Constant, 0.0);
        return _conv.call(padded);
    }
}
