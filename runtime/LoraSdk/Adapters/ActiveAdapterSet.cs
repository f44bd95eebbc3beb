using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Layers;

namespace LoraSdk.Adapters;

/// <summary>
/// Which adapters are active in one component: PEFT's <c>active_adapters</c>, one list shared by every layer (so
/// activating adapters is O(1), not a walk over the layers), plus the per-layer lists PEFT's <c>delete_adapter</c> leaves
/// behind when a layer's own rule gives it a different list. The one owner of the active state: nothing else writes
/// the shared list or a layer's override.
/// </summary>
internal sealed class ActiveAdapterSet
{
    private readonly ComponentForwardState _shared;
    private readonly HashSet<LayerSite> _overridden = new HashSet<LayerSite>();

    public ActiveAdapterSet(ComponentForwardState shared) => _shared = shared;

    /// <summary>The component-wide active list.</summary>
    public IReadOnlyList<string> Names => _shared.Active;

    /// <summary>PEFT's <c>set_adapter</c> on every layer: <paramref name="names"/> become the active adapters everywhere.</summary>
    public void Set(IReadOnlyList<string> names)
    {
        foreach (var site in _overridden) site.Adapters?.SetActiveOverride(null);
        _overridden.Clear();
        _shared.Active = names.ToArray();
    }

    /// <summary>
    /// PEFT's <c>delete_adapter</c> rule for the active lists: every layer drops <paramref name="name"/>; a layer left
    /// with none activates the first of its remaining adapters (sorted). Layers sharing the component list stay shared
    /// while the result is the same for all of them.
    /// </summary>
    public void Remove(string name, IEnumerable<LayerSite> sites)
    {
        foreach (var site in _overridden.ToList())
        {
            var adapters = site.Adapters!;
            adapters.SetActiveOverride(WithoutName(adapters.ActiveOverride!, name, adapters));
        }
        var active = _shared.Active;
        if (!active.Contains(name)) return;
        var remaining = active.ToList();
        remaining.Remove(name);
        if (remaining.Count > 0)
        {
            _shared.Active = remaining.ToArray();
            return;
        }
        _shared.Active = Array.Empty<string>();
        foreach (var site in sites)
        {
            var adapters = site.Adapters;
            if (adapters is null || !adapters.IsInjected || _overridden.Contains(site) || adapters.AdapterNames.Count == 0) continue;
            var sorted = adapters.AdapterNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
            adapters.SetActiveOverride(new[] { sorted[0] });
            _overridden.Add(site);
        }
    }

    /// <summary>The whole state, to put back with <see cref="Restore"/> (a merge registers its result without activating it).</summary>
    public Snapshot Capture() => new Snapshot(_shared.Active, _overridden.Select(s => (s, s.Adapters!.ActiveOverride)).ToList());

    /// <summary>Puts back a state taken with <see cref="Capture"/>.</summary>
    public void Restore(Snapshot snapshot)
    {
        _shared.Active = snapshot.Shared;
        foreach (var (site, active) in snapshot.Overrides)
        {
            site.Adapters!.SetActiveOverride(active);
            _overridden.Add(site);
        }
    }

    /// <summary>No adapter active anywhere (unload).</summary>
    public void Clear()
    {
        _overridden.Clear();
        _shared.Active = Array.Empty<string>();
    }

    private static IReadOnlyList<string> WithoutName(IReadOnlyList<string> active, string name, LayerAdapters adapters)
    {
        if (!active.Contains(name)) return active;
        var list = active.ToList();
        list.Remove(name);
        if (list.Count > 0) return list;
        var sorted = adapters.AdapterNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? Array.Empty<string>() : new[] { sorted[0] };
    }

    /// <summary>A captured active state.</summary>
    internal sealed class Snapshot
    {
        public Snapshot(IReadOnlyList<string> shared, IReadOnlyList<(LayerSite Site, IReadOnlyList<string>? Active)> overrides)
        {
            Shared = shared;
            Overrides = overrides;
        }

        public IReadOnlyList<string> Shared { get; }

        public IReadOnlyList<(LayerSite Site, IReadOnlyList<string>? Active)> Overrides { get; }
    }
}
