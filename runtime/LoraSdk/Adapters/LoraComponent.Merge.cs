using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Merging;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>
    /// PEFT's <c>add_weighted_adapter</c>: builds adapter <paramref name="adapterName"/> from <paramref name="adapters"/>
    /// with <paramref name="weights"/> (math in <see cref="LoraMerger"/>) and registers it on every layer some source
    /// targets, with r = lora_alpha = the merged rank. Like PEFT, the active adapters do not change. Uses each source's
    /// current scaling (set_adapters weights included, as PEFT reads <c>target.scaling</c>). The merged adapter's
    /// initialization (which decides the random draws before DARE's masks) follows the first adapter's
    /// <c>init_lora_weights</c>, as in PEFT; <see cref="LoraMergeOptions.Initialization"/> is ignored.
    /// </summary>
    public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName, LoraMergeOptions options)
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        if (weights == null) throw new ArgumentNullException(nameof(weights));
        if (adapterName == null) throw new ArgumentNullException(nameof(adapterName));
        if (adapters.Count != weights.Count)
        {
            throw new LoraException(LoraErrorKind.WeightsLengthMismatch,
                $"Length of adapter names {AdapterWeight.Count(adapters.Count)} is not equal to the length of the weights {AdapterWeight.Count(weights.Count)}",
                component: Name);
        }
        var missing = adapters.Where(a => !_registry.Contains(a)).ToList();
        if (missing.Count > 0)
        {
            throw new LoraException(LoraErrorKind.UnknownAdapter,
                $"Adapter name(s) {PythonRepr.StringSet(missing)} not in the list of present adapters: {PythonRepr.StringSet(_registry.Names)}.",
                component: Name);
        }
        if (_registry.Contains(adapterName))
        {
            throw new LoraException(LoraErrorKind.DuplicateAdapterName,
                $"Adapter name {adapterName} already in use in the model - please select a new adapter name.", adapterName: adapterName, component: Name);
        }

        CheckGraphChange("AddWeightedAdapter", PlanChangeForNewAdapter(adapterName));
        var records = adapters.Select(a => _registry.Get(a, Name)).ToList();
        // Merges combine LoRA factors; a variant's other weights (DoRA magnitudes, LoHa/LoKr factors) would be dropped
        // or misread silently.
        foreach (var r in records)
        {
            var variant = r.Sites.Select(site => site.Adapters!.GetAdapter(r.Name).Variant).FirstOrDefault(v => !LoraVariantPolicy.CanHotswapAndMerge(v));
            if (variant is not null)
            {
                throw new LoraException(LoraErrorKind.UnsupportedVariant,
                    $"add_weighted_adapter merges plain LoRA adapters; adapter '{r.Name}' is {variant}.", adapterName: r.Name, component: Name);
            }
        }
        int ConfiguredRank(LoraAdapterRecord r) => AdapterRank.FromModules(r.Sites.Select(site => site.Adapters!.GetAdapter(r.Name).ConfiguredRank));
        // The rank PEFT compares is the adapter's own (largest configured) rank: after enable_lora_hotswap the config
        // says target_rank, but the merge must see the adapter as loaded (PEFT merges unpadded adapters).
        var sources = records.Select((r, i) => new LoraMergeSource(r.Name, ConfiguredRank(r), weights[i], r.Config.UseRsLora)).ToList();
        var slots = records.SelectMany(r => r.Sites).Distinct().OrderBy(s => s.Order).ToList();
        // After enable_lora_hotswap the stored factors are zero-padded past the configured rank: merge the configured
        // part only (views, disposed after the merge), as PEFT would on unpadded adapters.
        var views = new List<TorchSharp.torch.Tensor>();
        TorchSharp.torch.Tensor View(TorchSharp.torch.Tensor t, int dim, int rank)
        {
            var v = t.narrow(dim, 0, rank);
            views.Add(v);
            return v;
        }
        var layers = slots.Select(slot => new LoraMergeLayer(slot.Path, records.Select(r =>
        {
            if (!slot.Adapters!.TryGetAdapter(r.Name, out var weights)) return null;
            var w = (LowRankWeights)weights;
            bool padded = w.TensorRank != w.ConfiguredRank;
            return padded
                ? new LoraLayerFactors(View(w.A, 0, w.ConfiguredRank), View(w.B, 1, w.ConfiguredRank), w.Scaling)
                : new LoraLayerFactors(w.A, w.B, w.Scaling);
        }).ToList())).ToList();

        // PEFT builds the merged adapter from a copy of the first adapter's config, so its init_lora_weights decides the
        // random draws that precede DARE's masks; that is config, not a caller option.
        var effective = new LoraMergeOptions
        {
            CombinationType = options.CombinationType,
            SvdRank = options.SvdRank,
            SvdClamp = options.SvdClamp,
            SvdFullMatrices = options.SvdFullMatrices,
            SvdAlgorithm = options.SvdAlgorithm,
            Density = options.Density,
            MajoritySignMethod = options.MajoritySignMethod,
            Seed = options.Seed,
            Initialization = MergedAdapterInitializations.FromInitLoraWeights(records[0].Config.ToDict()["init_lora_weights"]),
        };
        LoraMergeResult mergeResult;
        try
        {
            mergeResult = LoraMerger.Merge(sources, layers, effective);
        }
        finally
        {
            foreach (var v in views) v.Dispose();
        }
        using var result = mergeResult;
        var sourcePath = slots.ToDictionary(s => s, s => records.First(r => r.SourcePaths.ContainsKey(s)).SourcePaths[s]);
        var modules = result.Layers.Select((layer, i) => new LoraModuleTensors(sourcePath[slots[i]], layer.A, layer.B, result.Alpha, result.Rank)).ToList();
        var targets = new List<string>();
        foreach (var r in records) foreach (var t in r.Config.TargetModules) if (!targets.Contains(t)) targets.Add(t);
        var config = LoraAdapterConfig.Create(result.Rank, result.Alpha, targets, result.Plan.UseRsLora);

        var activeBefore = _active.Capture();
        AddAdapter(adapterName, new LoraAdapterDefinition(modules, config));
        _active.Restore(activeBefore);
    }
}
