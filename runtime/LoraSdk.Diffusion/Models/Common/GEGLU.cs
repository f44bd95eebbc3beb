using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>diffusers' <c>GEGLU</c>: <c>proj</c> to 2×width, then <c>hidden * gelu(gate)</c>.</summary>
public sealed class GEGLU : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear _proj;

    /// <summary>Creates the gated projection.</summary>
    public GEGLU(long dimIn, long dimOut, bool bias, ModelPlacement placement) : base(nameof(GEGLU))
    {
        _proj = Register("proj", new LoraLinear(dimIn, dimOut * 2, bias, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor projected = _proj.call(input);
        Tensor[] parts = projected.chunk(2, -1);
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}
