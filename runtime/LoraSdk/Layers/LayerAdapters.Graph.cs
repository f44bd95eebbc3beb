using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

// The graph-stable side of a layer (docs/gpu-graphs.md, "LoRA under graphs"): while its component is pinned, the
// layer's forward runs a fixed LayerGraphPlan instead of PrepareForward, and every change the pin allows reaches the
// plan's device tensors here, in place, outside any capture.
internal sealed partial class LayerAdapters
{
    private LayerGraphPlan? _graph;

    /// <summary>The pinned forward plan, or null when the component is not pinned.</summary>
    internal LayerGraphPlan? GraphPlan => _graph;

    /// <summary>Why this layer cannot be pinned with <paramref name="pinned"/>, or null.</summary>
    internal string? GraphPinProblem(IReadOnlyList<string> pinned)
    {
        LowRankWeights? first = null;
        foreach (var name in pinned)
        {
            if (!_byName.TryGetValue(name, out var w)) continue;
            if (w is not LowRankWeights low || !w.JoinsBatchedProduct)
                return $"adapter '{name}' is {w.Variant} at layer '{ModulePath}'; graph pins hold plain LoRA adapters only";
            if (first is not null && (low.A.device.ToString() != first.A.device.ToString() || low.A.dtype != first.A.dtype))
                return $"adapters '{first.AdapterName}' and '{name}' of layer '{ModulePath}' are on different devices or dtypes";
            first ??= low;
        }
        foreach (var name in ActiveAdapters)
        {
            if (_byName.ContainsKey(name) && !Contains(pinned, name))
                return $"active adapter '{name}' (layer '{ModulePath}') is not in the pinned set [{string.Join(", ", pinned)}]";
        }
        return null;
    }

    /// <summary>
    /// Fixes this layer's forward plan for <paramref name="pinned"/> under <paramref name="mode"/>: the normal caches are
    /// dropped (a materialized fold is undone), a disabled layer with fused adapters is unfused (as its next forward
    /// would), and a low-rank plan is registered with the factor store of the adapters' device and dtype, which lays its
    /// stacked factors out when it is allocated. Values are written by <see cref="RefreshGraph"/>.
    /// </summary>
    internal void PinForGraphs(IReadOnlyList<string> pinned, LoraForwardMode mode, Func<Device, ScalarType, GraphFactorStore> storeFor)
    {
        Unbuild();
        _batched.Release();
        if (Disabled && _merged.Count > 0) Unmerge();
        var slots = new List<LowRankWeights>();
        foreach (var name in pinned)
            if (_byName.TryGetValue(name, out var w)) slots.Add((LowRankWeights)w);
        var kind = _merged.Count > 0 || slots.Count == 0 ? GraphPlanKind.BaseOnly
            : mode == LoraForwardMode.Materialized ? GraphPlanKind.Folded : GraphPlanKind.LowRank;
        var plan = new LayerGraphPlan(kind, kind == GraphPlanKind.BaseOnly ? Array.Empty<LowRankWeights>() : slots.ToArray());
        _graph = plan;
        if (kind == GraphPlanKind.LowRank) storeFor(slots[0].A.device, slots[0].A.dtype).Register(this, plan, _layer.OutFeatures);
    }

    /// <summary>
    /// Brings the pinned plan up to date with the host state, in place: the effective scales into the host mirror of
    /// the store's scale buffer (the store uploads them and recomputes the scaled B), a changed factor version (a
    /// hotswap) marks the scaled B stale; for a folded plan the weight (exact original copied back, then the active
    /// adapters folded in the active order, exactly as the materialized mode folds). Never allocates a tensor the plan's
    /// forward reads.
    /// </summary>
    internal void RefreshGraph(double runtimeScale)
    {
        var plan = _graph;
        if (plan is null) return;
        if (plan.Kind == GraphPlanKind.LowRank) RefreshLowRank(plan, runtimeScale);
        else if (plan.Kind == GraphPlanKind.Folded) RefreshFolded(plan, runtimeScale);
    }

    private void RefreshLowRank(LayerGraphPlan plan, double runtimeScale)
    {
        var store = plan.Store!;
        for (int i = 0; i < plan.Slots.Length; i++)
        {
            var w = plan.Slots[i];
            if (plan.FactorVersions[i] != w.FactorVersion)
            {
                plan.FactorVersions[i] = w.FactorVersion;
                store.MarkFactorsChanged(w.AdapterName);
            }
            double scale = EffectiveGraphScale(w, runtimeScale);
            if (plan.Scales[i].Equals(scale)) continue;
            plan.Scales[i] = scale;
            long start = plan.ScaleOffset + plan.Offsets[i];
            Array.Fill(store.Scales.Host, (float)scale, (int)start, w.TensorRank);
            store.Scales.Dirty = true;
            store.MarkSlotChanged(w.AdapterName);
        }
    }

    private void RefreshFolded(LayerGraphPlan plan, double runtimeScale)
    {
        _scratch.Clear();
        if (!Disabled) CollectActive(_scratch);
        var wanted = _scratch.Select(w => (Adapter: w, w.FactorVersion, Scale: w.Scaling * runtimeScale)).ToArray();
        if (wanted.SequenceEqual(plan.Folded)) return;
        if (_built == Built.Materialized) RestoreMaterialized();
        if (_scratch.Count > 0)
        {
            Fold(_scratch, runtimeScale);
            _built = Built.Materialized;
        }
        plan.Folded = wanted;
    }

    /// <summary>The scale a pinned slot runs at: its scaling × the runtime scale when active here, else 0.</summary>
    private double EffectiveGraphScale(AdapterWeights w, double runtimeScale) => GraphScaleFor(w, w.Scaling, runtimeScale);

    /// <summary>The scale slot <paramref name="w"/> would run at with scaling <paramref name="scaling"/> (a staged hotswap's, computed ahead).</summary>
    internal double GraphScaleFor(AdapterWeights w, double scaling, double runtimeScale) =>
        !Disabled && Contains(ActiveAdapters, w.AdapterName) ? scaling * runtimeScale : 0.0;

    /// <summary>Ends the pinned plan: frees what it allocated and undoes its fold; the next forward takes the normal path.</summary>
    internal void UnpinForGraphs()
    {
        if (_graph is null) return;
        _graph.Dispose();
        _graph = null;
        Unbuild();
    }

    /// <summary>
    /// Refuses to run active adapters inside a CUDA graph capture without a pin: the plan and the scales would be
    /// frozen into the graph as host values, and later changes would silently not reach its replays.
    /// </summary>
    internal void ThrowIfAdaptersRunUnderCapture()
    {
        if (_adapters.Count == 0) return;
        if (Disabled)
        {
            if (_merged.Count == 0) return;
        }
        else
        {
            if (_merged.Count > 0) return;
            bool runs = false;
            foreach (var name in ActiveAdapters) runs |= _byName.ContainsKey(name);
            if (!runs) return;
        }
        throw new LoraSdk.Adapters.LoraException(LoraSdk.Adapters.LoraErrorKind.GraphNotPinned,
            $"LoRA layer '{ModulePath}' runs adapters [{string.Join(", ", ActiveAdapters)}] inside a CUDA graph capture, but its component is not " +
            "pinned for graphs: the graph would freeze the scales and the forward plan as they are now, and later SetAdapters, runtime scales " +
            "or hotswaps would silently not reach its replays. Call PinForGraphs() on the component or the LoRA manager before capturing.",
            modulePath: ModulePath);
    }

    private static bool Contains(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return true;
        return false;
    }
}
