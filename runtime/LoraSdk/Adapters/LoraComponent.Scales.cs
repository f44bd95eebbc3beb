using LoraSdk.Core;
using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>
    /// diffusers' model-level <c>set_adapters(adapter_names, weights)</c>: activates <paramref name="adapterNames"/> and
    /// sets each one's scaling to weight × alpha / r in every layer that holds it. <paramref name="weights"/>: null
    /// (1.0 each) or one weight per adapter (a number, None = 1.0, or — for a UNet with a <see cref="UNetBlockLayout"/> —
    /// a block dict). Costs O(layers of the named adapters); validates every weight before changing anything.
    /// </summary>
    public void SetAdapterWeights(IReadOnlyList<string> adapterNames, IReadOnlyList<AdapterWeight?>? weights)
    {
        if (adapterNames == null) throw new ArgumentNullException(nameof(adapterNames));
        var list = weights ?? adapterNames.Select(_ => (AdapterWeight?)null).ToList();
        if (list.Count != adapterNames.Count)
        {
            throw new LoraException(LoraErrorKind.WeightsLengthMismatch,
                $"Length of adapter names {AdapterWeight.Count(adapterNames.Count)} is not equal to the length of their weights {AdapterWeight.Count(list.Count)}.",
                component: Name);
        }
        var rules = ExpandWeights(list);
        GateGraphChange("SetAdapters", PlanChangeForActivation(adapterNames));
        ApplyWeights(adapterNames, rules);
    }

    /// <summary><see cref="SetAdapterWeights"/> with one scalar weight per adapter (null = 1.0 each).</summary>
    public void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null) =>
        SetAdapterWeights(adapterNames, weights?.Select(w => (AdapterWeight?)AdapterWeight.Of(w)).ToList());

    /// <summary><see cref="SetAdapterWeights"/> for one adapter.</summary>
    public void SetAdapters(string adapterName, AdapterWeight? weight = null) => SetAdapterWeights(new[] { adapterName }, new[] { weight });

    /// <summary>PEFT's <c>set_adapter</c>: activates adapters without changing scalings; unknown names are an error.</summary>
    public void SetAdapter(IReadOnlyList<string> adapterNames)
    {
        var missing = adapterNames.Where(n => !_registry.Contains(n)).ToList();
        if (missing.Count > 0)
        {
            throw new LoraException(LoraErrorKind.UnknownAdapter,
                $"Following adapter(s) could not be found: {string.Join(", ", missing)}. Make sure you are passing the correct adapter name(s)." +
                $" current loaded adapters are: [{string.Join(", ", _registry.Names.Select(PythonRepr.String))}]", component: Name);
        }
        GateGraphChange("SetAdapter", PlanChangeForActivation(adapterNames));
        _active.Set(adapterNames);
        RefreshGraph();
    }

    /// <summary>Expands every adapter's weight (block dicts for a UNet) — all validation happens here.</summary>
    internal IReadOnlyList<LoraModuleWeightRule> ExpandWeights(IReadOnlyList<AdapterWeight?> weights)
    {
        var rules = new List<LoraModuleWeightRule>(weights.Count);
        foreach (var w in weights)
        {
            var scale = w ?? AdapterWeight.None;
            if (scale.Kind == AdapterWeightKind.None) scale = AdapterWeight.Of(1.0);
            rules.Add(Options.BlockLayout is UNetBlockLayout layout
                ? LoraBlockScaleExpansion.Expand(scale, layout, LayerExists)
                : LoraBlockScaleExpansion.Plain(scale));
        }
        return rules;
    }

    private bool LayerExists(string layerName)
    {
        foreach (var key in _stateDictKeys)
            if (key.Contains(layerName, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>diffusers' <c>set_weights_and_activate_adapters</c> over the adapter index (no module-tree walk).</summary>
    internal void ApplyWeights(IReadOnlyList<string> adapterNames, IReadOnlyList<LoraModuleWeightRule> rules)
    {
        _active.Set(adapterNames);
        for (int i = 0; i < adapterNames.Count; i++)
        {
            if (!_registry.TryGet(adapterNames[i], out var record)) continue;
            var rule = rules[i];
            foreach (var slot in record.Sites)
            {
                var w = slot.Adapters!.GetAdapter(record.Name);
                w.SetScaling(w.ScalingFor(rule.IsUniform ? rule.UniformWeight : rule.WeightFor(slot.Path)));
            }
        }
        RefreshGraph();
    }

    /// <summary>
    /// Multiplies the scaling of every active adapter by <paramref name="scale"/> until the returned scope is disposed
    /// (diffusers' <c>cross_attention_kwargs["scale"]</c> for the UNet, <c>lora_scale</c> of <c>encode_prompt</c> for text
    /// encoders). Disposing restores the exact previous value, also when the call in between threw; scopes nest (dispose
    /// them in reverse order, e.g. with <c>using</c>). O(1): layers pick the scale up in their next forward. While the
    /// component is pinned for CUDA graphs the scale is written into the graph-stable scales (one copy to the device) and
    /// reaches the next replay; it cannot be applied inside a captured function then.
    /// </summary>
    public IDisposable ApplyRuntimeScale(double scale)
    {
        if (scale == 1.0) return RuntimeScaleScope.Empty;
        if (IsGraphPinned) ThrowIfCaptureUnderway("ApplyRuntimeScale");
        double previous = _forward.RuntimeScale;
        _forward.RuntimeScale = previous * scale;
        return new RuntimeScaleScope(_forward, previous);
    }
}
