using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>GELU</c> activation module: <c>proj</c> (Linear), then GELU (exact, or the tanh approximation for
/// <c>activation_fn="gelu-approximate"</c>).
/// </summary>
public sealed class GELU : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear _proj;
    private readonly bool _tanhApproximation;

    /// <summary>Creates the projection and activation.</summary>
    public GELU(long dimIn, long dimOut, bool tanhApproximation, bool bias, ModelPlacement placement) : base(nameof(GELU))
    {
        _tanhApproximation = tanhApproximation;
        _proj = Register("proj", new LoraLinear(dimIn, dimOut, bias, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var projected = _proj.call(input);
        return _tanhApproximation
            ? nn.functional.gelu(projected, TorchSharp.Modules.GELU.Approximate.tanh)
            : nn.functional.gelu(projected);
    }
}
