using System;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>diffusers' <c>TimestepEmbedding</c>: <c>linear_1</c>, activation, <c>linear_2</c>, optional post-activation.</summary>
public sealed class TimestepEmbedding : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear _linear1;
    private readonly LoraLinear _linear2;
    private readonly Func<Tensor, Tensor> _act;
    private readonly Func<Tensor, Tensor>? _postAct;

    /// <summary>Creates the embedding MLP.</summary>
    public TimestepEmbedding(long inChannels, long timeEmbedDim, string activation, string? postActivation, ModelPlacement placement)
        : base(nameof(TimestepEmbedding))
    {
        _linear1 = Register("linear_1", new LoraLinear(inChannels, timeEmbedDim, true, placement.DType, placement.Device));
        _act = Activations.Get(activation);
        _linear2 = Register("linear_2", new LoraLinear(timeEmbedDim, timeEmbedDim, true, placement.DType, placement.Device));
        _postAct = postActivation is null ? null : Activations.Get(postActivation);
    }

    /// <summary>Input width of <c>linear_1</c>.</summary>
    public long InFeatures => _linear1.InFeatures;

    /// <inheritdoc />
    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        Tensor h = _linear2.call(_act(_linear1.call(sample)));
        if (_postAct is not null) h = _postAct(h);
        return h.MoveToOuterDisposeScope();
    }
}
