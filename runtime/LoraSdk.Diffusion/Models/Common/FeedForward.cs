using LoraSdk.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>FeedForward</c> with <c>activation_fn="geglu"</c>: <c>net.0</c> (<see cref="GEGLU"/>, whose
/// Linear is <c>net.0.proj</c>), <c>net.1</c> (Dropout), <c>net.2</c> (Linear).
/// </summary>
public sealed class FeedForward : DiffusersModule<Tensor, Tensor>
{
    private readonly GEGLU _act;
    private readonly LoraLinear _out;

    /// <summary>Creates the feed-forward with inner width <c>dim * mult</c>.</summary>
    public FeedForward(long dim, long? dimOut, int mult, bool bias, ModelPlacement placement) : base(nameof(FeedForward))
    {
        long inner = dim * mult;
        _act = new GEGLU(dim, inner, bias, placement);
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
