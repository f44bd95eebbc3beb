using LoraSdk.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>FeedForward</c> with <c>activation_fn="gelu"</c> or <c>"gelu-approximate"</c> (Flux):
/// <c>net.0</c> (<see cref="GELU"/>, whose Linear is <c>net.0.proj</c>), <c>net.1</c> (Dropout), <c>net.2</c> (Linear).
/// </summary>
public sealed class GeluFeedForward : DiffusersModule<Tensor, Tensor>
{
    private readonly GELU _act;
    private readonly LoraLinear _out;

    /// <summary>Creates the feed-forward with inner width <c>dim * mult</c>.</summary>
    public GeluFeedForward(long dim, long? dimOut, int mult, bool tanhApproximation, bool bias, ModelPlacement placement)
        : base(nameof(GeluFeedForward))
    {
        long inner = dim * mult;
        _act = new GELU(dim, inner, tanhApproximation, bias, placement);
        _out = new LoraLinear(inner, dimOut ?? dim, bias, placement.DType, placement.Device);
        Register("net", new ModuleList<nn.Module<Tensor, Tensor>>(_act, nn.Dropout(0.0), _out));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var hidden = _act.call(input);
        return _out.call(hidden);
    }
}
