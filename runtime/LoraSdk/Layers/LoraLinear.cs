using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LoraSdk.Layers;

/// <summary>
/// A drop-in replacement for <c>nn.Linear</c> (which is sealed) that can carry LoRA adapters. Its parameters are
/// registered as <c>weight</c> (out, in) and <c>bias</c> (out), the same state-dict names as <c>nn.Linear</c>, so
/// models built from it load ordinary checkpoints. Without adapters, forward is exactly <c>F.linear</c>.
/// </summary>
public sealed class LoraLinear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with uninitialized (empty) parameters; load weights before use.</summary>
    public LoraLinear(long inFeatures, long outFeatures, bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : base(nameof(LoraLinear))
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), "features must be positive");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(torch.empty(new[] { outFeatures, inFeatures }, dtype ?? ScalarType.Float32, device), requires_grad: false);
        bias = hasBias ? new Parameter(torch.empty(new[] { outFeatures }, dtype ?? ScalarType.Float32, device), requires_grad: false) : null;
        RegisterComponents();
    }

    // Field names are the registered parameter names (TorchSharp registers fields by name).
#pragma warning disable IDE1006
    private Parameter weight;
    private Parameter? bias;
#pragma warning restore IDE1006

    /// <summary>Input features.</summary>
    public long InFeatures { get; }

    /// <summary>Output features.</summary>
    public long OutFeatures { get; }

    /// <summary>The (out, in) weight.</summary>
    public Parameter Weight => weight;

    /// <summary>The bias, or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}
