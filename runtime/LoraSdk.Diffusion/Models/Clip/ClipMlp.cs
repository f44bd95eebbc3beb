using System;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPMLP</c>: <c>fc1</c>, activation (<c>hidden_act</c>), <c>fc2</c>.</summary>
public sealed class ClipMlp : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear _fc1;
    private readonly LoraLinear _fc2;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the MLP.</summary>
    public ClipMlp(long hiddenSize, long intermediateSize, string activation, ModelPlacement placement) : base(nameof(ClipMlp))
    {
        _activation = Activations.Get(activation);
        _fc1 = Register("fc1", new LoraLinear(hiddenSize, intermediateSize, true, placement.DType, placement.Device));
        _fc2 = Register("fc2", new LoraLinear(intermediateSize, hiddenSize, true, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return _fc2.call(_activation(_fc1.call(hiddenStates))).MoveToOuterDisposeScope();
    }
}
