using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LoraSdk.Layers;

/// <summary>
/// A layer that carries LoRA adapters keyed by name, like a PEFT <c>LoraLayer</c>: the base of <see cref="LoraLinear"/>
/// and <see cref="LoraConv2d"/>. Derived layers own their registered <c>weight</c>/<c>bias</c> parameters and the
/// arithmetic of their kind (the base output, a low-rank product); the adapters of the layer — their weights, which are
/// active, what is fused — live in one <see cref="LayerAdapters"/>. This is the read side; every change goes through
/// <see cref="Adapters.LoraComponent"/>, which keeps its per-adapter layer index consistent.
/// </summary>
public abstract class LoraLayer : Module<Tensor, Tensor>
{
    private LayerAdapters? _adapters;

    /// <summary>Creates the module; derived constructors call <see cref="AttachAdapters"/> once their parameters exist.</summary>
    private protected LoraLayer(string name) : base(name)
    {
    }

    internal LayerAdapters Adapters => _adapters!;

    /// <summary>The module path inside its component (diffusers naming), or null when no component owns the layer.</summary>
    public string? ModulePath => Adapters.ModulePath;

    /// <summary>True for <see cref="LoraConv2d"/>, false for <see cref="LoraLinear"/>.</summary>
    public abstract bool IsConvolution { get; }

    /// <summary>The base weight, (out, in) or (out, in, kh, kw). Holds fused adapters while <see cref="MergedAdapters"/> is not empty.</summary>
    public abstract Parameter Weight { get; }

    /// <summary>The base bias, or null.</summary>
    public abstract Parameter? Bias { get; }

    /// <summary>Input features (Linear) or input channels (Conv2d).</summary>
    public abstract long InFeatures { get; }

    /// <summary>Output features (Linear) or output channels (Conv2d).</summary>
    public abstract long OutFeatures { get; }

    /// <summary>Names of the adapters this layer holds, in load order.</summary>
    public IReadOnlyList<string> AdapterNames => Adapters.AdapterNames;

    /// <summary>PEFT's <c>active_adapters</c> of this layer (may name adapters that this layer does not hold).</summary>
    public IReadOnlyList<string> ActiveAdapters => Adapters.ActiveAdapters;

    /// <summary>PEFT's <c>merged_adapters</c>: adapters fused into <see cref="Weight"/>, in fusing order.</summary>
    public IReadOnlyList<string> MergedAdapters => Adapters.MergedAdapters;

    /// <summary>PEFT's <c>disable_adapters</c>: when true the layer runs as its base layer.</summary>
    public bool AdaptersDisabled => Adapters.Disabled;

    /// <summary>True when an adapter was ever injected and the layer was not unloaded since (PEFT's "is a BaseTunerLayer").</summary>
    public bool IsInjected => Adapters.IsInjected;

    /// <summary>True while the active adapters are folded into <see cref="Weight"/> by the materialized forward mode.</summary>
    public bool IsMaterialized => Adapters.IsMaterialized;

    /// <summary>True when the layer holds adapter <paramref name="adapterName"/>.</summary>
    public bool HasAdapter(string adapterName) => Adapters.HasAdapter(adapterName);

    /// <summary>The live weights of adapter <paramref name="adapterName"/> (throws <see cref="KeyNotFoundException"/> if absent).</summary>
    public AdapterWeights GetAdapter(string adapterName) => Adapters.GetAdapter(adapterName);

    /// <inheritdoc />
    public sealed override Tensor forward(Tensor input)
    {
        var graphPlan = Adapters.GraphPlan;
        if (graphPlan is not null) return GraphStableForward(input, graphPlan);
        if (LoraSdk.Gpu.CudaGraph.IsCaptureUnderway) Adapters.ThrowIfAdaptersRunUnderCapture();
        var plan = Adapters.PrepareForward();
        if (plan == LoraForwardPlan.BaseOnly) return BaseOutput(input);
        using var scope = torch.NewDisposeScope();
        var result = BaseOutput(input);
        switch (plan)
        {
            case LoraForwardPlan.Single:
                AddLowRank(input, result, Adapters.SingleAdapter!.A, Adapters.SingleAdapter.B, Adapters.SingleScale);
                break;
            case LoraForwardPlan.Concatenated:
                AddLowRank(input, result, Adapters.ConcatA!, Adapters.ConcatB!, 1.0);
                break;
            default:
                Adapters.AddEachActive(this, input, result);
                break;
        }
        return result.MoveToOuterDisposeScope();
    }

    // The pinned (graph-stable) forward: reads only device tensors whose storage is fixed while the component is
    // pinned, and decides nothing on the host that a later change could alter (no scale as a host number, no branch on
    // a scale of 0), so a CUDA graph captured over it replays every change the pin allows. The plan's B already holds
    // every rank column's effective scale (GraphFactorStore), so a low-rank layer adds two kernels to its base output,
    // h = x·A_catᵀ and y += h·B_scaledᵀ, for any number of pinned adapters.
    private Tensor GraphStableForward(Tensor input, LayerGraphPlan plan)
    {
        if (plan.Kind != GraphPlanKind.LowRank) return BaseOutput(input);
        using var scope = torch.NewDisposeScope();
        var result = BaseOutput(input);
        AddLowRank(input, result, plan.A, plan.B, 1.0);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The base layer's output with the current weight and bias.</summary>
    private protected abstract Tensor BaseOutput(Tensor input);

    /// <summary><paramref name="result"/> += <paramref name="scale"/> · B(A(<paramref name="input"/>)), the LoRA update of this layer's kind.</summary>
    internal abstract void AddLowRank(Tensor input, Tensor result, Tensor a, Tensor b, double scale);

    /// <summary>
    /// <paramref name="result"/> += <paramref name="scale"/> · the layer's operation (F.linear, or F.conv2d with its stride
    /// and padding) of <paramref name="input"/> with the dense weight <paramref name="delta"/>, shaped like <see cref="Weight"/>:
    /// the update of a variant whose ΔW is not a low-rank product (LoHa, LoKr).
    /// </summary>
    internal abstract void AddDense(Tensor input, Tensor result, Tensor delta, double scale);

    /// <summary>B(A(<paramref name="input"/>)), unscaled: the low-rank output as PEFT's <c>lora_B(lora_A(x))</c> computes it.</summary>
    internal abstract Tensor LowRankOutput(Tensor input, Tensor a, Tensor b);

    /// <summary>The bias shaped to broadcast against this layer's output, or null.</summary>
    internal abstract Tensor? BiasForOutput();

    /// <summary>Creates the adapter state; call after the weight and bias are set, before <c>RegisterComponents</c>.</summary>
    private protected void AttachAdapters() => _adapters = new LayerAdapters(this);

    /// <inheritdoc />
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Adapters.OnModuleMoved(device, dtype);
    }
}
