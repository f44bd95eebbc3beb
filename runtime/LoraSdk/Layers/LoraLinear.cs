using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LoraSdk.Layers;

/// <summary>
/// A drop-in replacement for <c>nn.Linear</c> (which is sealed) that can carry LoRA adapters. Its parameters are
/// registered as <c>weight</c> (out, in) and <c>bias</c> (out), the same state-dict names as <c>nn.Linear</c>, so
/// models built from it load ordinary checkpoints. Without adapters, forward is exactly <c>F.linear</c>; with active
/// adapters it adds their low-rank products (see <see cref="LoraForwardMode"/>). Adapter tensors are not registered
/// parameters: <c>state_dict()</c> stays the base model's. Adapters are managed by <see cref="LoraSdk.Adapters.LoraComponent"/>.
/// </summary>
public sealed class LoraLinear : LoraLayer
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
        AttachAdapters();
        RegisterComponents();
    }

    /// <summary>Wraps existing parameters (shared, not copied): used to make a plain <c>nn.Linear</c> LoRA-capable.</summary>
    internal LoraLinear(Parameter existingWeight, Parameter? existingBias)
        : base(nameof(LoraLinear))
    {
        if (existingWeight.dim() != 2) throw new ArgumentException("a Linear weight must be 2-D", nameof(existingWeight));
        InFeatures = existingWeight.shape[1];
        OutFeatures = existingWeight.shape[0];
        weight = existingWeight;
        bias = existingBias;
        AttachAdapters();
        RegisterComponents();
    }

    // Field names are the registered parameter names (TorchSharp registers fields by name).
#pragma warning disable IDE1006
    private Parameter weight;
    private Parameter? bias;
#pragma warning restore IDE1006

    /// <summary>Input features.</summary>
    public override long InFeatures { get; }

    /// <summary>Output features.</summary>
    public override long OutFeatures { get; }

    /// <summary>The (out, in) weight.</summary>
    public override Parameter Weight => weight;

    /// <summary>The bias, or null.</summary>
    public override Parameter? Bias => bias;

    /// <inheritdoc />
    public override bool IsConvolution => false;

    private protected override Tensor BaseOutput(Tensor input) => AtenLinear.Forward(input, weight, bias);

    internal override void AddLowRank(Tensor input, Tensor result, Tensor a, Tensor b, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var flatInput = input.reshape(-1, InFeatures);
        var flatResult = result.view(-1, OutFeatures);
        var hidden = flatInput.mm(a.t());
        flatResult.addmm_(hidden, b.t(), 1f, (float)scale);
    }

    internal override void AddDense(Tensor input, Tensor result, Tensor delta, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var flatInput = input.reshape(-1, InFeatures);
        var flatResult = result.view(-1, OutFeatures);
        flatResult.addmm_(flatInput, delta.t(), 1f, (float)scale);
    }

    internal override Tensor LowRankOutput(Tensor input, Tensor a, Tensor b) =>
        nn.functional.linear(nn.functional.linear(input, a), b);

    internal override Tensor? BiasForOutput() => bias;
}
