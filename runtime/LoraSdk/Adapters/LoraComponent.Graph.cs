using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Gpu;
using LoraSdk.Layers;

namespace LoraSdk.Adapters;

// LoRA under CUDA graphs (docs/gpu-graphs.md): the pin that puts the component into its graph-stable forward state,
// and the gate every state-changing operation passes: no change during a capture; while pinned, a change either
// happens in place (then the graph-stable state is refreshed) or would alter what captured graphs compute (then a
// Refuse pin refuses it and a Release pin is released first).
public sealed partial class LoraComponent
{
    private readonly List<LoraGraphPin> _pins = new List<LoraGraphPin>();

    /// <summary>True while a <see cref="LoraGraphPin"/> holds the component in its graph-stable forward state.</summary>
    public bool IsGraphPinned => _forward.Graph is not null;

    /// <summary>The adapters the graph-stable plan holds while pinned (in stacking order), else empty.</summary>
    public IReadOnlyList<string> GraphPinnedAdapters => _forward.Graph?.Adapters ?? Array.Empty<string>();

    /// <summary>
    /// Pins the component for CUDA graphs: every LoRA layer's forward becomes a fixed plan over device tensors (the
    /// pinned adapters' A stacked, and their B stacked with each rank column's scale folded in, all views of one flat
    /// device tensor per device and dtype; the adapters' own A/B become views of it while pinned) so that a graph captured
    /// afterwards replays, without recapture, every change made while the pin lasts: hotswaps (copied into the same
    /// storage), <c>SetAdapters</c> weights and activation within <paramref name="adapterNames"/> (an inactive pinned
    /// adapter runs at scale 0), runtime scales, per-step scale schedules and enable/disable. In
    /// <see cref="LoraForwardMode.Materialized"/> the active adapters are folded into the weights in place, and refolded
    /// in place after such changes. Pin before capturing (the guide's order: <c>EnableLoraHotswap</c> → load → pin →
    /// capture → hotswap / set adapters → replay). Changes that would alter the captured graph — activating or loading
    /// an adapter outside the pin, fuse/unfuse, another forward mode, deleting, moving or unloading a pinned adapter —
    /// are refused or release the pin, by <paramref name="policy"/>. Several pins of the same adapters share the state.
    /// </summary>
    /// <param name="adapterNames">The adapters the graphs will run (default: the active ones); must include every active adapter.</param>
    /// <param name="policy">What a change that would alter the captured graphs does.</param>
    /// <returns>The pin; dispose it after the graphs captured over it (or <see cref="LoraGraphPin.Bind"/> them).</returns>
    /// <exception cref="LoraException">
    /// <see cref="LoraErrorKind.GraphUnsupported"/> (Auto forward mode, a DoRA/LoHa/LoKr adapter, an active adapter left
    /// out), <see cref="LoraErrorKind.UnknownAdapter"/>, <see cref="LoraErrorKind.GraphPinned"/> (pinned with other
    /// adapters by a Refuse pin), <see cref="LoraErrorKind.GraphCaptureUnderway"/>.
    /// </exception>
    public LoraGraphPin PinForGraphs(IReadOnlyList<string>? adapterNames = null, LoraGraphPinPolicy policy = LoraGraphPinPolicy.Refuse)
    {
        var names = ValidateGraphPin(adapterNames);
        var pin = new LoraGraphPin(CheckPolicy(policy));
        AttachPin(pin, names);
        return pin;
    }

    internal static LoraGraphPinPolicy CheckPolicy(LoraGraphPinPolicy policy) =>
        Enum.IsDefined(policy) ? policy : throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown graph pin policy");

    /// <summary>Checks a pin of <paramref name="adapterNames"/> (null: the active adapters) and returns the resolved list; changes nothing.</summary>
    internal IReadOnlyList<string> ValidateGraphPin(IReadOnlyList<string>? adapterNames)
    {
        ThrowIfCaptureUnderway("PinForGraphs");
        List<string> names;
        if (adapterNames is null)
        {
            names = _active.Names.Where(_registry.Contains).Distinct(StringComparer.Ordinal).ToList();
        }
        else
        {
            var unknown = adapterNames.Where(n => !_registry.Contains(n)).ToList();
            if (unknown.Count > 0)
            {
                throw new LoraException(LoraErrorKind.UnknownAdapter,
                    $"Cannot pin {Name} for CUDA graphs with adapter(s) {string.Join(", ", unknown.Select(n => "'" + n + "'"))}: not loaded (loaded: {string.Join(", ", _registry.Names)}).",
                    adapterName: unknown[0], component: Name);
            }
            names = adapterNames.Distinct(StringComparer.Ordinal).ToList();
        }
        if (_forward.Mode == LoraForwardMode.Auto)
        {
            throw new LoraException(LoraErrorKind.GraphUnsupported,
                $"{Name} runs in LoraForwardMode.Auto, which decides on the host, per forward call, when to fold adapters into the weights: under a " +
                "CUDA graph it could fold during the capture and fold again on every replay. Choose Unfused or Materialized before pinning.",
                component: Name);
        }
        foreach (var site in _sites)
        {
            string? problem = site.Adapters?.GraphPinProblem(names);
            if (problem is not null)
                throw new LoraException(LoraErrorKind.GraphUnsupported, $"Cannot pin {Name} for CUDA graphs: {problem}.", modulePath: site.Path, component: Name);
        }
        var current = _forward.Graph;
        if (current is not null && !current.Adapters.SequenceEqual(names, StringComparer.Ordinal) && _pins.Any(p => p.Policy == LoraGraphPinPolicy.Refuse))
        {
            throw new LoraException(LoraErrorKind.GraphPinned,
                $"{Name} is already pinned for CUDA graphs with adapters [{string.Join(", ", current.Adapters)}]; a pin with [{string.Join(", ", names)}] " +
                "would change what those graphs compute. End the other pin first.", component: Name);
        }
        return names;
    }

    /// <summary>Adds <paramref name="pin"/> (validated with <see cref="ValidateGraphPin"/>) and builds the graph-stable state if needed.</summary>
    internal void AttachPin(LoraGraphPin pin, IReadOnlyList<string> names)
    {
        if (_forward.Graph is { } current && !current.Adapters.SequenceEqual(names, StringComparer.Ordinal))
        {
            string reason = $"{Name}: pinned again with adapters [{string.Join(", ", names)}] (was [{string.Join(", ", current.Adapters)}])";
            foreach (var other in _pins.ToList()) other.Release(reason);
        }
        _forward.Graph ??= new GraphForwardState(_forward, names, _sites.Where(s => s.Adapters is not null).Select(s => s.Adapters!));
        _pins.Add(pin);
        pin.Add(this);
    }

    /// <summary>Removes <paramref name="pin"/>; the last one ends the graph-stable state (plans freed, folds undone).</summary>
    internal void DetachPin(LoraGraphPin pin)
    {
        _pins.Remove(pin);
        if (_pins.Count > 0 || _forward.Graph is null) return;
        var graph = _forward.Graph;
        _forward.Graph = null;
        graph.Dispose();
    }

    /// <summary>
    /// While the component is pinned for graphs: the tensors its pinned forward reads, by name — the factor stores
    /// (<c>factors@device/dtype</c>: one flat tensor holding every pinned adapter's A and B, and the scaled B the forward
    /// reads), their scale buffers (<c>scales@device/dtype</c>), every pinned adapter's A and B per layer
    /// (<c>adapter/path.A</c>, views of the store) and each layer's stacked A and scaled B (<c>path.stackedA</c>,
    /// <c>path.scaledB</c>). A diagnostic: a hotswap, a weight or scale change keeps every one of them in its storage
    /// (compare their data pointers). Read only; empty when not pinned.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, TorchSharp.torch.Tensor>> GetGraphPinnedTensors()
    {
        var result = new List<KeyValuePair<string, TorchSharp.torch.Tensor>>();
        var state = _forward.Graph;
        if (state is null) return result;
        foreach (var store in state.Stores)
        {
            string where = store.Device + "/" + store.DType;
            if (store.Scales.DeviceStale) store.Scales.Upload();  // a staged hotswap's apply left the device copy of the scales behind
            result.Add(new("factors@" + where, store.Flat));
            result.Add(new("scales@" + where, store.Scales.Values));
        }
        foreach (var layer in state.Layers)
        {
            var plan = layer.GraphPlan;
            if (plan is null) continue;
            foreach (var w in plan.Slots)
            {
                result.Add(new($"{w.AdapterName}/{layer.ModulePath}.A", w.A));
                result.Add(new($"{w.AdapterName}/{layer.ModulePath}.B", w.B));
            }
            if (plan.Kind != GraphPlanKind.LowRank) continue;
            result.Add(new(layer.ModulePath + ".stackedA", plan.A));
            result.Add(new(layer.ModulePath + ".scaledB", plan.B));
        }
        return result;
    }

    /// <summary>Writes host-side LoRA state into the graph-stable device tensors (no-op when not pinned).</summary>
    internal void RefreshGraph() => _forward.Graph?.Refresh();

    /// <summary>The graph-stable state (tests inspect its buffers).</summary>
    internal GraphForwardState? GraphState => _forward.Graph;

    // ------------------------------------------------------------------ the gate

    private void ThrowIfCaptureUnderway(string operation)
    {
        if (CudaGraph.IsCaptureUnderway)
        {
            throw new LoraException(LoraErrorKind.GraphCaptureUnderway,
                $"{operation} cannot change the LoRA state of {Name} while a CUDA graph capture is under way (the capture would record or miss " +
                "the change). Make LoRA changes outside the captured function.", component: Name);
        }
    }

    /// <summary>
    /// Phase one of a change (no side effects): refuses it during a capture, and refuses a change that would alter the
    /// captured graphs (<paramref name="planChange"/> says how; null for an in-place change) while a Refuse pin holds
    /// the component.
    /// </summary>
    internal void CheckGraphChange(string operation, string? planChange)
    {
        ThrowIfCaptureUnderway(operation);
        if (planChange is null || _forward.Graph is null || !_pins.Any(p => p.Policy == LoraGraphPinPolicy.Refuse)) return;
        throw new LoraException(LoraErrorKind.GraphPinned,
            $"{operation} {planChange}, which would change what the CUDA graphs captured over {Name} compute (pinned adapters: " +
            $"[{string.Join(", ", _forward.Graph.Adapters)}]); nothing was changed. Dispose the graph pin (and its graphs), make the change, then pin " +
            "and capture again — or pin with LoraGraphPinPolicy.Release to have such a change release the pin and reset its graphs.",
            component: Name);
    }

    /// <summary>Phase two: a change that alters the captured graphs releases the (Release) pins before it happens.</summary>
    internal void ReleaseGraphPins(string operation, string? planChange)
    {
        if (planChange is null || _forward.Graph is null) return;
        foreach (var pin in _pins.ToList()) pin.Release($"{Name}: {operation} {planChange}");
    }

    private void GateGraphChange(string operation, string? planChange)
    {
        CheckGraphChange(operation, planChange);
        ReleaseGraphPins(operation, planChange);
    }

    // How a change would alter the pinned plan (null: it does not, or the component is not pinned).

    internal string? PlanChangeForActivation(IReadOnlyList<string> adapterNames)
    {
        var graph = _forward.Graph;
        if (graph is null) return null;
        var outside = adapterNames.Where(n => _registry.Contains(n) && !graph.Adapters.Contains(n, StringComparer.Ordinal)).Distinct().ToList();
        return outside.Count == 0 ? null : $"activates {Quote(outside)}, outside the pinned adapters";
    }

    internal string? PlanChangeForNewAdapter(string adapterName) =>
        IsGraphPinned ? $"adds adapter '{adapterName}', which the pinned plan does not hold" : null;

    internal string? PlanChangeForRemoval(IEnumerable<string> adapterNames, string verb)
    {
        var graph = _forward.Graph;
        if (graph is null) return null;
        var pinned = adapterNames.Where(n => graph.Adapters.Contains(n, StringComparer.Ordinal)).Distinct().ToList();
        return pinned.Count == 0 ? null : $"{verb} pinned adapter(s) {Quote(pinned)}, whose tensors the graphs read";
    }

    internal string? PlanChangeForFuse() => IsGraphPinned ? "fuses adapters into the weights (the graphs add them unfused)" : null;

    internal string? PlanChangeForUnfuse() =>
        IsGraphPinned && _sites.Any(s => s.Adapters is { MergedAdapters.Count: > 0 }) ? "unfuses adapters (the graphs run those layers as fused base layers)" : null;

    internal string? PlanChangeForDisable() =>
        IsGraphPinned && _sites.Any(s => s.Adapters is { MergedAdapters.Count: > 0 })
            ? "disables LoRA on layers with fused adapters (which unfuses them; the graphs run them as fused base layers)" : null;

    internal string? PlanChangeForUnload() => IsGraphPinned ? "unloads every adapter" : null;

    internal string? PlanChangeForMode(LoraForwardMode mode) =>
        IsGraphPinned && mode != _forward.Mode ? $"switches the forward mode from {_forward.Mode} to {mode}" : null;

    internal string? PlanChangeForDematerialize() =>
        IsGraphPinned && _forward.Mode == LoraForwardMode.Materialized ? "undoes the folds the graphs run (materialized mode)" : null;

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => "'" + n + "'"));
}
