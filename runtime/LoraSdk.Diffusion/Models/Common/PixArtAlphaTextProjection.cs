using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>diffusers' <c>PixArtAlphaTextProjection</c> with <c>act_fn="silu"</c>: <c>linear_1</c>, SiLU, <c>linear_2</c>.</summary>
public sealed class PixArtAlphaTextProjection : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear _linear1;
    private readonly LoraLinear _linear2;

    /// <summary>Creates the projection <paramref name="inFeatures"/> → <paramref name="hiddenSize"/> → <paramref name="hiddenSize"/>.</summary>
    public PixArtAlphaTextProjection(long inFeatures, long hiddenSize, ModelPlacement placement) : base(nameof(PixArtAlphaTextProjection))
    {
        _linear1 = Register("linear_1", new LoraLinear(inFeatures, hiddenSize, true, placement.DType, placement.Device));
        _linear2 = Register("linear_2", new LoraLinear(hiddenSize, hiddenSize, true, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor caption)
    {
        using var scope = NewDisposeScope();
        return _linear2.call(nn.functional.silu(_linear1.call(caption))).MoveToOuterDisposeScope();
    }
}
