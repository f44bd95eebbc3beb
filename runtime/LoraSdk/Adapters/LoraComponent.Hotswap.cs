using LoraSdk.Compatibility;
using LoraSdk.Core;
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>
    /// diffusers' <c>enable_lora_hotswap(target_rank, check_compiled)</c>: the next load pads every adapter of this
    /// component to <paramref name="targetRank"/> (zero rows/columns, same output) and keeps scalings as tensors, so
    /// later hotswaps of adapters with other ranks and alphas copy into the same storage. Must precede the first load.
    /// </summary>
    /// <param name="targetRank">The highest rank among the adapters that will be swapped in.</param>
    /// <param name="checkCompiled">What to do when an adapter is already loaded (default: refuse).</param>
    /// <returns>A warning to log for "warn", else null.</returns>
    public string? EnableLoraHotswap(int targetRank = 128, HotswapCompileCheck checkCompiled = HotswapCompileCheck.Error)
    {
        ThrowIfCaptureUnderway("EnableLoraHotswap");
        string? warning = null;
        if (_registry.Count > 0)
        {
            if (checkCompiled == HotswapCompileCheck.Error)
                throw new LoraException(LoraErrorKind.HotswapAfterLoad, "Call EnableLoraHotswap before loading the first adapter.", component: Name,
                    diffusersMessage: DiffusersErrors.HotswapAfterLoad);
            if (checkCompiled == HotswapCompileCheck.Warn)
                warning = "It is recommended to call EnableLoraHotswap before loading the first adapter (diffusers: " + DiffusersErrors.HotswapAfterLoadWarning + ")";
        }
        if (targetRank <= 0) throw new ArgumentOutOfRangeException(nameof(targetRank));
        _pendingHotswapRank = targetRank;
        return warning;
    }

    /// <summary>
    /// Hot swaps in-memory weights into the loaded adapter <paramref name="adapterName"/>, like
    /// <c>LoadLoraAdapter(path, hotswap: true)</c> with a file: the same checks (config compatibility, target layers,
    /// rank within the stored rank, shapes) before anything changes, then a copy into the adapter's existing storage
    /// (smaller ranks zero-padded, layers the new weights lack zero-filled) — never a reallocation. Tensors already in
    /// the layers' dtype and device are read in place (one device copy per tensor). While the component is pinned for
    /// CUDA graphs, the next replay computes the new weights. The caller keeps its tensors.
    /// </summary>
    /// <exception cref="LoraException">The same refusals as a file hotswap; nothing changes.</exception>
    public void HotswapAdapter(string adapterName, LoraAdapterDefinition definition)
    {
        if (adapterName == null) throw new ArgumentNullException(nameof(adapterName));
        if (definition == null) throw new ArgumentNullException(nameof(definition));
        var inputs = InputsOf(definition, readInPlace: true);
        using var prepared = Prepare("in-memory adapter", inputs, ConfigOf(definition, inputs), adapterName, hotswap: true);
        Commit(prepared);
    }

    /// <summary>
    /// The first half of <see cref="HotswapAdapter"/>, done ahead of time while the component is pinned for CUDA graphs:
    /// every check of a hotswap of <paramref name="definition"/> into adapter <paramref name="adapterName"/> (a refusal
    /// changes nothing), its factors gathered on the device in the layout of the pin's factor store, and an image of
    /// the store's whole flat tensor as the swap will leave it (the other pinned adapters' factors, every scaled B at the
    /// scales the swap leaves). Nothing the graphs read changes until <see cref="ApplyHotswap"/>, which then costs ONE
    /// device copy while no other pinned adapter changed since staging. The staged swap can be applied any number of
    /// times while the pin lasts (swapping between prepared adapters); it holds the image — a full copy of the flat
    /// factor tensor — until disposed. The caller keeps its tensors.
    /// </summary>
    /// <exception cref="LoraException">The refusals of <see cref="HotswapAdapter"/>; <see cref="LoraErrorKind.GraphUnsupported"/>
    /// when the component is not pinned or a layer of the adapter is not a low-rank layer of the pin (materialized mode,
    /// fused adapters).</exception>
    public LoraStagedHotswap StageHotswap(string adapterName, LoraAdapterDefinition definition)
    {
        if (adapterName == null) throw new ArgumentNullException(nameof(adapterName));
        if (definition == null) throw new ArgumentNullException(nameof(definition));
        var state = _forward.Graph ?? throw new LoraException(LoraErrorKind.GraphUnsupported,
            $"StageHotswap prepares a swap into the factor store of a component pinned for CUDA graphs, and {Name} is not pinned. " +
            "Call PinForGraphs() first, or use HotswapAdapter.", adapterName: adapterName, component: Name);
        var inputs = InputsOf(definition, readInPlace: true);
        var prepared = Prepare("in-memory adapter", inputs, ConfigOf(definition, inputs), adapterName, hotswap: true);
        GraphForwardState.StagedHotswap? staged = null;
        try
        {
            var modules = prepared.Modules.ToDictionary(m => m.Slot.Adapters!, m => (m.A!, m.B!));
            var zero = prepared.ZeroFill.Select(s => s.Adapters!).ToList();
            var outside = prepared.Modules.Select(m => m.Slot).Concat(prepared.ZeroFill)
                .FirstOrDefault(slot => !state.Stores.Any(store => store.Holds(slot.Adapters!, adapterName)));
            if (outside is not null)
            {
                throw new LoraException(LoraErrorKind.GraphUnsupported,
                    $"StageHotswap: layer '{outside.Path}' of {Name} does not run adapter '{adapterName}' as a low-rank layer of the pin " +
                    $"(forward mode {_forward.Mode}, or fused adapters there), so it has no place in the factor store. Use HotswapAdapter.",
                    adapterName: adapterName, modulePath: outside.Path, component: Name);
            }
            // Each layer's scaling after the swap (what CommitHotswap sets: weight 1 × the new alpha / rank), and the
            // host records the one-copy apply writes, resolved now so that applying does no lookups.
            var records = new StagedHotswapRecords(
                prepared.Modules.Select(m =>
                {
                    var w = (LowRankWeights)m.Slot.Adapters!.GetAdapter(adapterName);
                    return (w, m.Slot.Adapters!, m.Rank, m.Alpha, AdapterWeights.ScalingOf(1.0, m.Alpha, m.Rank, w.UseRsLora), m.Slot, m.SourcePath);
                }).ToArray(),
                prepared.ZeroFill.Select(s => ((LowRankWeights)s.Adapters!.GetAdapter(adapterName), s.Adapters!, s)).ToArray());
            var scalings = records.Modules.ToDictionary(m => m.Core, m => m.Scaling);
            staged = state.Stage(adapterName, modules, zero, scalings);
            foreach (var m in prepared.Modules)
            {
                m.A!.Dispose();
                m.B!.Dispose();
                m.A = null;
                m.B = null;
            }
            return new LoraStagedHotswap(this, prepared, staged, records);
        }
        catch
        {
            staged?.Dispose();
            prepared.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies a hotswap staged by <see cref="StageHotswap"/>: when no other pinned adapter's factors or scales changed
    /// since staging, ONE device copy of the staged image over the pin's factor store and host bookkeeping (the adapter
    /// takes the new ranks, alphas and config; when its own scale inputs — activation, disable, runtime scale — changed
    /// since staging the scaled B is then recomputed); otherwise the staged factors are copied per group and the scales
    /// refreshed. The next replay computes the new adapter. Only while the pin the swap was staged for lasts.
    /// </summary>
    /// <exception cref="LoraException"><see cref="LoraErrorKind.GraphUnsupported"/>: the pin it was staged for has ended
    /// (stage again); <see cref="LoraErrorKind.GraphCaptureUnderway"/>.</exception>
    /// <exception cref="ObjectDisposedException">The staged swap was disposed.</exception>
    /// <exception cref="ArgumentException">It was staged by another component.</exception>
    public void ApplyHotswap(LoraStagedHotswap staged)
    {
        if (staged == null) throw new ArgumentNullException(nameof(staged));
        if (!ReferenceEquals(staged.Owner, this)) throw new ArgumentException($"the staged hotswap belongs to component {staged.Owner.Name}, not {Name}", nameof(staged));
        var (prepared, parts, records) = staged.Parts();
        if (!ReferenceEquals(_forward.Graph, parts.State))
        {
            throw new LoraException(LoraErrorKind.GraphUnsupported,
                $"The hotswap of '{prepared.AdapterName}' was staged for a graph pin of {Name} that has ended; nothing was changed. Stage it again " +
                "for the current pin (or use HotswapAdapter).", adapterName: prepared.AdapterName, component: Name);
        }
        CheckGraphChange("Hotswap", null);
        var graph = _forward.Graph!;
        var applied = graph.TryApplyImages(parts);
        if (applied != GraphForwardState.ImageApply.Stale)
        {
            // One device copy per factor store; the adapters' host records follow. Complete: the plans take their new
            // factor versions and nothing else is written. FactorsOnly (this adapter's scale inputs — active set,
            // disable, runtime scale — changed since staging): the refresh recomputes the scaled B.
            CommitStagedRecords(prepared, records);
            if (applied == GraphForwardState.ImageApply.Complete) graph.SettleImages(parts);
            else RefreshGraph();
            return;
        }
        // The image went stale (another slot's factors or scales changed since staging): the per-group copies from the
        // image's slot views, then the full refresh.
        CommitHotswap(prepared, parts);
        RefreshGraph();
    }

    private readonly ConditionalWeakTable<LoraAdapterDefinition, LoraAdapterConfig> _derivedConfigs = new ConditionalWeakTable<LoraAdapterDefinition, LoraAdapterConfig>();

    /// <summary>
    /// The config of an in-memory adapter: its own, or the one derived from its modules (as a load without metadata
    /// would), derived once per definition and component. Deriving condenses the target modules against every module
    /// name of the component, which for a UNet's 560 layers costs more than the hotswap's copies; a definition's paths,
    /// ranks and alphas are immutable, so swapping the same definitions back and forth need not derive again.
    /// </summary>
    private LoraAdapterConfig ConfigOf(LoraAdapterDefinition definition, IReadOnlyList<LoraModuleInput> inputs) =>
        definition.Config ?? _derivedConfigs.GetValue(definition, _ => DeriveConfig(inputs));

    /// <summary>True while <see cref="EnableLoraHotswap"/> waits for the first load.</summary>
    public bool IsHotswapPending => _pendingHotswapRank is not null;

    /// <summary>PEFT's <c>prepare_model_for_compiled_hotswap</c>: pad every adapter to the target rank, scalings to tensors.</summary>
    private void PadForHotswap(int targetRank)
    {
        using var noGrad = torch.no_grad();
        foreach (var record in _registry.Records)
        {
            foreach (var slot in record.Sites)
            {
                if (slot.Adapters!.GetAdapter(record.Name) is not LowRankWeights w) continue;
                if (w.TensorRank < targetRank)
                {
                    using var scope = torch.NewDisposeScope();
                    long r = w.TensorRank;
                    var downShape = (long[])w.A.shape.Clone();
                    downShape[0] = targetRank;
                    var upShape = (long[])w.B.shape.Clone();
                    upShape[1] = targetRank;
                    var down = torch.zeros(downShape, w.A.dtype, w.A.device);
                    down.narrow(0, 0, r).copy_(w.A);
                    var up = torch.zeros(upShape, w.B.dtype, w.B.device);
                    up.narrow(1, 0, r).copy_(w.B);
                    down.DetachFromDisposeScope();
                    up.DetachFromDisposeScope();
                    w.ReplaceFactors(down, up);
                    slot.Adapters.Touch();
                }
                w.ConvertScalingToTensor();
            }
            record.Config = record.Config.WithTargetRank(targetRank);
        }
    }

    /// <summary>
    /// Hotswap checks (<see cref="HotswapCompatibility"/>: PEFT's <c>check_hotswap_configs_compatible</c> and
    /// <c>hotswap_adapter_from_state_dict</c>), all before any copy: config keys, variants, unexpected target layers,
    /// shapes, ranks that would need a reallocation. Messages are worded as diffusers/PEFT word them.
    /// </summary>
    private void PrepareHotswap(LoraPreparedLoad prepared, string sourceName, IReadOnlyList<LoraModuleInput> modules, LoraAdapterRecord old)
    {
        var sites = new List<LayerSite?>(modules.Count);
        var incomingModules = new List<HotswapModuleFacts>(modules.Count);
        foreach (var input in modules)
        {
            // The slot's layers are the old adapter's sites; a module is compared by the layer it resolves to.
            var site = ResolveSite(input.Path);
            sites.Add(site);
            incomingModules.Add(new HotswapModuleFacts(site?.Path ?? input.Path, input.AShape is { } a ? (int)a[0] : input.Rank, input.Variant, input.Path));
        }
        var incoming = new HotswapAdapterFacts(sourceName, incomingModules, HotswapConfigFacts.Of(prepared.Config));
        var loaded = LoadedHotswapFacts(old);

        if (HotswapCompatibility.CompareConfigs(loaded.Config, incoming.Config) is HotswapFinding config)
        {
            throw new LoraException(LoraErrorKind.HotswapIncompatibleConfig,
                $"Configs are incompatible: for {config.ConfigKey}, {config.LoadedValue} != {config.IncomingValue}",
                adapterName: old.Name, sourceName: sourceName, component: Name);
        }

        // Hot swapping copies A/B factors into the old adapter's storage: both sides must be plain LoRA.
        if (HotswapCompatibility.CheckVariants(loaded, incoming) is HotswapFinding variant)
        {
            var module = variant.Module;
            throw new LoraException(LoraErrorKind.UnsupportedVariant,
                $"{sourceName}: hot swapping supports plain LoRA adapters; adapter '{old.Name}' is {variant.LoadedVariant ?? LoraVariants.Lora} and the new weights are " +
                $"{module?.Variant ?? LoraVariants.Lora}{(module is null ? "" : $" (module '{module.Name}')")}. Load the new adapter under its own name instead.",
                adapterName: old.Name, modulePath: module?.Name, sourceName: sourceName, component: Name);
        }

        if (HotswapCompatibility.CheckLayers(loaded, incoming) is HotswapFinding outside)
        {
            var unexpected = outside.Modules.SelectMany(m => new[] { m.Name + ".lora_A.weight", m.Name + ".lora_B.weight" }).ToList();
            unexpected.Sort(StringComparer.Ordinal);
            string list = string.Join(", ", unexpected.Select(k => InsertAdapterName(k, old.Name)));
            throw new LoraException(LoraErrorKind.HotswapUnexpectedKeys,
                $"Hot swapping the adapter did not succeed, unexpected keys found: {list}.",
                adapterName: old.Name, sourceName: sourceName, component: Name);
        }
        var resolved = new List<(LoraModuleInput Input, LayerSite Slot)>(modules.Count);
        for (int i = 0; i < modules.Count; i++)
        {
            var input = modules[i];
            var slot = sites[i]!; // inside the slot (CheckLayers): one of the old adapter's sites
            resolved.Add((input, slot));
            CheckShapes(sourceName, input, slot, old.Name);
            // Both sides are plain LoRA (checked above): the loaded weights are A/B factors.
            var w = (LowRankWeights)slot.Adapters!.GetAdapter(old.Name);
            if (HotswapCompatibility.CheckRank(new HotswapModuleFacts(slot.Path, (int)input.AShape![0], input.Variant, input.Path), (int)w.TensorRank) is HotswapFinding rank)
            {
                throw new LoraException(LoraErrorKind.HotswapRankTooLarge,
                    $"{sourceName}: hot swapping adapter '{old.Name}' would need rank {rank.Module!.Rank.ToString(CultureInfo.InvariantCulture)} " +
                    $"at {Name} layer '{slot.Path}', but its loaded weights have rank {rank.SlotRank.ToString(CultureInfo.InvariantCulture)}; swapping in place " +
                    "never reallocates. Call EnableLoraHotswap(targetRank) with the largest rank before loading the first adapter.",
                    adapterName: old.Name, modulePath: slot.Path, sourceName: sourceName, component: Name);
            }
        }
        var covered = new HashSet<LayerSite>(resolved.Select(r => r.Slot));
        foreach (var slot in old.Sites) if (!covered.Contains(slot)) prepared.ZeroFill.Add(slot);
        foreach (var (input, slot) in resolved)
        {
            var module = new LoraPreparedLoad.PreparedModule(slot, input.Path, input.Variant, input.Rank, input.Alpha, input.UseRsLora || prepared.Config.UseRsLora);
            prepared.Modules.Add(module);
            (module.A, module.B, module.Magnitude) = LoadTensors(input, slot);
        }
    }

    /// <summary>What the hotswap rules need of the loaded adapter <paramref name="old"/>: each layer's stored rank and variant, its config.</summary>
    private static HotswapAdapterFacts LoadedHotswapFacts(LoraAdapterRecord old) =>
        new HotswapAdapterFacts(old.Name,
            old.Sites.Select(site =>
            {
                var weights = site.Adapters!.GetAdapter(old.Name);
                int rank = weights is LowRankWeights w ? (int)w.TensorRank : 0;
                return new HotswapModuleFacts(site.Path, rank, weights.Variant);
            }).ToList(),
            HotswapConfigFacts.Of(old.Config));

    private static string InsertAdapterName(string key, string adapterName)
    {
        const string suffix = ".weight";
        return key.Substring(0, key.Length - suffix.Length) + "." + adapterName + suffix;
    }

    /// <summary>Copies the new weights into the old adapter's storage (zero-padding smaller ranks) and updates scalings.</summary>
    private void CommitHotswap(LoraPreparedLoad prepared, GraphForwardState.StagedHotswap? staged = null)
    {
        using var noGrad = torch.no_grad();
        // Pinned for graphs: the factors of layers whose low-rank plan holds the adapter are views of the component's
        // flat factor store; the new factors are staged per group and copied in (GraphFactorStore.Hotswap), or were
        // staged ahead of time (StageHotswap).
        HashSet<LayerAdapters> inStore;
        if (staged is not null)
        {
            _forward.Graph!.Apply(staged);
            inStore = staged.Layers;
        }
        else
        {
            inStore = _forward.Graph?.Hotswap(prepared.AdapterName,
                prepared.Modules.ToDictionary(m => m.Slot.Adapters!, m => (m.A!, m.B!)),
                prepared.ZeroFill.Select(s => s.Adapters!).ToList()) ?? new HashSet<LayerAdapters>();
        }
        CommitHotswapRecords(prepared, inStore);
    }

    /// <summary>
    /// The host side of a one-copy staged apply: what <see cref="CommitHotswapRecords"/> writes for layers the store
    /// wrote, from the records resolved at staging (no lookups); the <see cref="AdapterWeights.ScalingTensor"/> fills
    /// are deferred to their next read.
    /// </summary>
    private void CommitStagedRecords(LoraPreparedLoad prepared, StagedHotswapRecords records)
    {
        var record = _registry.Get(prepared.AdapterName, Name);
        foreach (var m in records.Modules)
        {
            m.Weights.ConfiguredRank = m.Rank;
            m.Weights.Alpha = m.Alpha;
            m.Weights.SetScaling(m.Scaling, deferTensor: true);
            m.Weights.Touch();
            m.Core.Touch();
            record.SourcePaths[m.Site] = m.SourcePath;
        }
        foreach (var z in records.ZeroFill)
        {
            z.Weights.Touch();
            z.Core.Touch();
        }
        record.Vacant.Clear();
        foreach (var z in records.ZeroFill) record.Vacant.Add(z.Site);
        record.Config = prepared.Config;
    }

    /// <summary>
    /// The host side of a hotswap: copies the factors of layers outside the factor stores (<paramref name="inStore"/>
    /// were written by the store), sets every layer's rank, alpha and scaling, raises the versions and updates the record.
    /// </summary>
    private void CommitHotswapRecords(LoraPreparedLoad prepared, HashSet<LayerAdapters> inStore)
    {
        var record = _registry.Get(prepared.AdapterName, Name);
        using var noGrad = torch.no_grad();
        foreach (var m in prepared.Modules)
        {
            var core = m.Slot.Adapters!;
            var w = (LowRankWeights)core.GetAdapter(prepared.AdapterName);
            if (inStore.Contains(core))
            {
                // written by the store
            }
            else if (m.A!.shape[0] == w.TensorRank)
            {
                w.A.copy_(m.A);
                w.B.copy_(m.B!);
            }
            else
            {
                long r = m.A.shape[0];
                w.A.zero_();
                using (var slice = w.A.narrow(0, 0, r)) slice.copy_(m.A);
                w.B.zero_();
                using (var slice = w.B.narrow(1, 0, r)) slice.copy_(m.B!);
            }
            w.ConfiguredRank = m.Rank;
            w.Alpha = m.Alpha;
            w.SetScaling(w.ScalingFor(1.0));
            w.Touch();
            core.Touch();
            m.A?.Dispose();
            m.B?.Dispose();
            m.A = null;
            m.B = null;
        }
        foreach (var slot in prepared.ZeroFill)
        {
            var w = (LowRankWeights)slot.Adapters!.GetAdapter(prepared.AdapterName);
            if (!inStore.Contains(slot.Adapters))
            {
                w.A.zero_();
                w.B.zero_();
            }
            w.Touch();
            slot.Adapters.Touch();
        }
        var sourcePaths = prepared.Modules.ToDictionary(m => m.Slot, m => m.SourcePath);
        foreach (var slot in record.Sites)
            if (sourcePaths.TryGetValue(slot, out var p)) record.SourcePaths[slot] = p;
        record.Vacant.Clear();
        record.Vacant.UnionWith(prepared.ZeroFill);
        record.Config = prepared.Config;
    }
}
