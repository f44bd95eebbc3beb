using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>What the forward pass of a layer has to compute.</summary>
internal enum LoraForwardPlan
{
    /// <summary>Only the base layer (no active adapter, disabled, fused, or folded by the materialized mode).</summary>
    BaseOnly,

    /// <summary>Base output plus one low-rank product with a single LoRA adapter (<see cref="LayerAdapters.SingleAdapter"/>).</summary>
    Single,

    /// <summary>Base output plus one low-rank product over the stacked LoRA adapters (<see cref="LayerAdapters.ConcatA"/>).</summary>
    Concatenated,

    /// <summary>Base output, then each active adapter in order (some variant does not join the batched product).</summary>
    OneByOne,
}

/// <summary>
/// The adapters of one layer, modelled on PEFT's <c>LoraLayer</c>: adapters keyed by name (each an
/// <see cref="AdapterWeights"/> of its variant), the active list, the fused list, the disable flag — with three
/// changes: fusing keeps the <see cref="OriginalWeight"/> (unfuse copies it back instead of subtracting a recomputed
/// delta), several active LoRA adapters run as one <see cref="BatchedLowRank"/> product, and an optional materialized
/// mode folds the active adapters into the weight with the same exact restore.
/// </summary>
internal sealed partial class LayerAdapters
{
    private readonly LoraLayer _layer;
    private readonly List<AdapterWeights> _adapters = new List<AdapterWeights>();
    private readonly Dictionary<string, AdapterWeights> _byName = new Dictionary<string, AdapterWeights>(StringComparer.Ordinal);
    private readonly List<string> _names = new List<string>();
    private readonly List<string> _merged = new List<string>();
    private readonly List<AdapterWeights> _scratch = new List<AdapterWeights>();
    private readonly OriginalWeight _original = new OriginalWeight();
    private readonly BatchedLowRank _batched = new BatchedLowRank();

    private IReadOnlyList<string>? _activeOverride;

    // What the batched product / folded weight was built from.
    private enum Built { None, Cache, Materialized }

    private Built _built;
    private AdapterWeights[] _sigAdapters = Array.Empty<AdapterWeights>();
    private int[] _sigVersions = Array.Empty<int>();
    private double[] _sigScales = Array.Empty<double>();
    private int _sigLayerVersion = -1;
    private int _layerVersion;
    private int _stableCount;

    internal LayerAdapters(LoraLayer layer)
    {
        _layer = layer;
    }

    /// <summary>The component state the layer reads (null until a component adopts the layer).</summary>
    internal ComponentForwardState? Host { get; private set; }

    /// <summary>The owning component object (identity check against adoption by two components).</summary>
    internal object? Owner { get; private set; }

    internal string? ModulePath { get; private set; }

    internal IReadOnlyList<string> AdapterNames => _names;

    internal IReadOnlyList<AdapterWeights> All => _adapters;

    internal IReadOnlyList<string> MergedAdapters => _merged;

    internal bool Disabled { get; set; }

    internal bool IsInjected { get; set; }

    internal bool IsMaterialized => _built == Built.Materialized;

    /// <summary>The single active adapter for <see cref="LoraForwardPlan.Single"/>.</summary>
    internal LowRankWeights? SingleAdapter { get; private set; }

    /// <summary>The effective scale (scaling × runtime scale) of <see cref="SingleAdapter"/>.</summary>
    internal double SingleScale { get; private set; }

    /// <summary>Stacked A of the active adapters, (R, in[, kh, kw]).</summary>
    internal Tensor? ConcatA => _batched.A;

    /// <summary>Stacked, pre-scaled B of the active adapters, (out, R).</summary>
    internal Tensor? ConcatB => _batched.B;

    internal IReadOnlyList<string> ActiveAdapters => _activeOverride ?? Host?.Active ?? Array.Empty<string>();

    internal IReadOnlyList<string>? ActiveOverride => _activeOverride;

    internal void Adopt(object owner, ComponentForwardState host, string modulePath)
    {
        if (Owner is not null && !ReferenceEquals(Owner, owner))
            throw new InvalidOperationException($"The layer '{modulePath}' already belongs to another LoRA component ('{ModulePath}').");
        Owner = owner;
        Host = host;
        ModulePath = modulePath;
    }

    internal bool HasAdapter(string name) => _byName.ContainsKey(name);

    internal AdapterWeights GetAdapter(string name) =>
        _byName.TryGetValue(name, out var w) ? w : throw new KeyNotFoundException($"Layer '{ModulePath}' has no adapter '{name}'.");

    internal bool TryGetAdapter(string name, out AdapterWeights weights) => _byName.TryGetValue(name, out weights!);

    internal void AddAdapter(AdapterWeights weights)
    {
        if (_byName.ContainsKey(weights.AdapterName))
            throw new InvalidOperationException($"Layer '{ModulePath}' already holds adapter '{weights.AdapterName}'.");
        _adapters.Add(weights);
        _byName.Add(weights.AdapterName, weights);
        _names.Add(weights.AdapterName);
        IsInjected = true;
        _layerVersion++;
    }

    /// <summary>Removes and disposes adapter <paramref name="name"/> (the merged list is left as PEFT leaves it).</summary>
    internal bool RemoveAdapter(string name)
    {
        if (!_byName.TryGetValue(name, out var w)) return false;
        if (_graph is null) Unbuild(); // a pinned plan keeps its fold (only adapters outside the pin are removed then)
        _byName.Remove(name);
        _adapters.Remove(w);
        _names.Remove(name);
        w.Dispose();
        _layerVersion++;
        return true;
    }

    internal void SetActiveOverride(IReadOnlyList<string>? active)
    {
        _activeOverride = active;
        _layerVersion++;
    }

    internal void Touch() => _layerVersion++;

    // ------------------------------------------------------------------ forward

    /// <summary>
    /// Decides what the forward pass computes and brings the batched product or the folded weight up to date,
    /// following PEFT's rules: disabled → base (a fused layer is unfused first, as PEFT does); any fused adapter → base
    /// only; otherwise base + every active adapter the layer holds, in active-list order.
    /// </summary>
    internal LoraForwardPlan PrepareForward()
    {
        if (_adapters.Count == 0 && _merged.Count == 0)
        {
            Unbuild();
            return LoraForwardPlan.BaseOnly;
        }
        if (Disabled)
        {
            if (_merged.Count > 0) Unmerge();
            Unbuild();
            return LoraForwardPlan.BaseOnly;
        }
        if (_merged.Count > 0) return LoraForwardPlan.BaseOnly;

        CollectActive(_scratch);
        if (_scratch.Count == 0)
        {
            Unbuild();
            return LoraForwardPlan.BaseOnly;
        }

        double runtime = Host?.RuntimeScale ?? 1.0;
        bool same = SignatureEquals(_scratch, runtime);
        _stableCount = same ? _stableCount + 1 : 1;
        var mode = Host?.Mode ?? LoraForwardMode.Unfused;
        bool fold = mode == LoraForwardMode.Materialized
            || (mode == LoraForwardMode.Auto && _stableCount >= Math.Max(1, Host!.AutoMaterializeAfter));
        if (fold)
        {
            if (!(same && _built == Built.Materialized))
            {
                Unbuild();
                Fold(_scratch, runtime);
                SaveSignature(_scratch, runtime);
                _built = Built.Materialized;
            }
            return LoraForwardPlan.BaseOnly;
        }

        bool batchable = true;
        foreach (var w in _scratch) batchable &= w.JoinsBatchedProduct;
        if (!batchable)
        {
            if (_built == Built.Materialized) RestoreMaterialized();
            SingleAdapter = null;
            _built = Built.None;
            SaveSignature(_scratch, runtime);
            return LoraForwardPlan.OneByOne;
        }
        if (!(same && _built == Built.Cache))
        {
            if (_built == Built.Materialized) RestoreMaterialized();
            BuildCache(_scratch, runtime);
            SaveSignature(_scratch, runtime);
            _built = Built.Cache;
        }
        return _scratch.Count == 1 ? LoraForwardPlan.Single : LoraForwardPlan.Concatenated;
    }

    /// <summary>For <see cref="LoraForwardPlan.OneByOne"/>: each active adapter adds its contribution, in order.</summary>
    internal void AddEachActive(LoraLayer layer, Tensor input, Tensor result)
    {
        double runtime = Host?.RuntimeScale ?? 1.0;
        foreach (var w in _scratch) w.AddForward(layer, input, result, w.Scaling * runtime);
    }

    private void CollectActive(List<AdapterWeights> into)
    {
        into.Clear();
        foreach (var name in ActiveAdapters)
            if (_byName.TryGetValue(name, out var w)) into.Add(w);
    }

    private bool SignatureEquals(List<AdapterWeights> active, double runtime)
    {
        if (_sigLayerVersion != _layerVersion || _sigAdapters.Length != active.Count) return false;
        for (int i = 0; i < active.Count; i++)
        {
            var w = active[i];
            if (!ReferenceEquals(_sigAdapters[i], w) || _sigVersions[i] != w.Version || !_sigScales[i].Equals(w.Scaling * runtime))
                return false;
        }
        return true;
    }

    private void SaveSignature(List<AdapterWeights> active, double runtime)
    {
        if (_sigAdapters.Length != active.Count)
        {
            _sigAdapters = new AdapterWeights[active.Count];
            _sigVersions = new int[active.Count];
            _sigScales = new double[active.Count];
        }
        for (int i = 0; i < active.Count; i++)
        {
            _sigAdapters[i] = active[i];
            _sigVersions[i] = active[i].Version;
            _sigScales[i] = active[i].Scaling * runtime;
        }
        _sigLayerVersion = _layerVersion;
    }

    private void InvalidateSignature() => _sigLayerVersion = -1;

    private void BuildCache(List<AdapterWeights> active, double runtime)
    {
        if (active.Count == 1)
        {
            SingleAdapter = (LowRankWeights)active[0];
            SingleScale = active[0].Scaling * runtime;
            return;
        }
        SingleAdapter = null;
        _batched.Build(active, _layer.OutFeatures, runtime);
    }

    /// <summary>Undoes the materialized fold (exact copy back) and forgets the cache signature.</summary>
    internal void Unbuild()
    {
        if (_built == Built.Materialized) RestoreMaterialized();
        _built = Built.None;
        SingleAdapter = null;
        InvalidateSignature();
    }

    private void RestoreMaterialized()
    {
        _original.RestoreInto(_layer.Weight);
        _built = Built.None;
        InvalidateSignature();
    }

    // ------------------------------------------------------------------ folding (materialize and fuse)

    /// <summary>weight = original folded with every active adapter in order, computed in fp32 for half-precision weights.</summary>
    private void Fold(List<AdapterWeights> active, double runtime)
    {
        _original.Keep(_layer.Weight);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var weight = _layer.Weight;
        bool fullPrecision = weight.dtype == ScalarType.Float32 || weight.dtype == ScalarType.Float64;
        var acc = fullPrecision ? weight.view(_layer.OutFeatures, -1) : Scratch(weight);
        foreach (var w in active) w.FoldInto(acc, w.Scaling * runtime);
        if (!fullPrecision) weight.copy_(acc.view(weight.shape));
    }

    /// <summary>
    /// An fp32 copy of <paramref name="weight"/> as (out, in·kh·kw) in the component's reusable scratch buffer (one
    /// buffer per component and device, grown to the largest layer), so fusing or folding half-precision weights does
    /// not allocate per layer. Valid until the next call; single-threaded like the rest of the engine.
    /// </summary>
    private Tensor Scratch(Tensor weight)
    {
        var flat = Host is not null ? Host.Scratch(weight.numel(), weight.device) : torch.empty(weight.numel(), ScalarType.Float32, weight.device);
        var acc = flat.view(_layer.OutFeatures, -1);
        acc.copy_(weight.view(_layer.OutFeatures, -1));
        return acc;
    }

    /// <summary>
    /// PEFT's <c>merge(safe_merge, adapter_names)</c>: fuses the given adapters (default: the active ones) that this
    /// layer holds and that are not fused yet, in that order, using their current scaling. With
    /// <paramref name="safe"/> the result is checked for NaN/Inf before the weight is touched.
    /// </summary>
    /// <returns>The adapters fused by this call.</returns>
    internal IReadOnlyList<string> Merge(IReadOnlyList<string>? adapterNames, bool safe, LoraFuseTransaction transaction)
    {
        var names = adapterNames ?? ActiveAdapters;
        var toMerge = new List<AdapterWeights>();
        foreach (var name in names)
        {
            if (_merged.Contains(name)) continue;
            if (_byName.TryGetValue(name, out var w) && !toMerge.Contains(w)) toMerge.Add(w);
        }
        if (toMerge.Count == 0) return Array.Empty<string>();

        Unbuild();
        bool wasFused = _original.IsKept;
        _original.Keep(_layer.Weight);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var weight = _layer.Weight;
        bool fullPrecision = weight.dtype == ScalarType.Float32 || weight.dtype == ScalarType.Float64;
        // Full precision without safe fusing folds in place (the original copy restores); otherwise the sum is built in
        // an fp32 scratch and written back once (one rounding for fp16/bf16; nothing written when a check fails).
        bool inPlace = fullPrecision && !safe;
        // Recorded before anything changes: a rollback restores the original copy (layer not fused before this call)
        // or the snapshot of the already fused weight.
        transaction.Record(this, wasFused ? weight.detach().clone().DetachFromDisposeScope() : null, _merged.Count); // detach() alias: disposed with the scope
        var acc = inPlace ? weight.view(_layer.OutFeatures, -1) : Scratch(weight);
        foreach (var w in toMerge)
        {
            w.FoldInto(acc, w.Scaling);
            if (safe)
            {
                using var cast = fullPrecision ? acc.alias() : acc.to(weight.dtype);
                using var finite = cast.isfinite().all();
                if (!finite.item<bool>())
                {
                    throw new LoraSdk.Adapters.LoraException(LoraSdk.Adapters.LoraErrorKind.NonFiniteFusedWeights,
                        $"NaNs detected in the merged weights. The adapter {w.AdapterName} seems to be broken",
                        adapterName: w.AdapterName, modulePath: ModulePath);
                }
            }
        }
        if (!inPlace) weight.copy_(acc.view(weight.shape));
        var merged = new List<string>(toMerge.Count);
        foreach (var w in toMerge)
        {
            _merged.Add(w.AdapterName);
            merged.Add(w.AdapterName);
        }
        return merged;
    }

    /// <summary>Rolls a failed fuse back: the weight returns to its state before the call.</summary>
    internal void RollbackMerge(Tensor? snapshot, int mergedCountBefore)
    {
        if (snapshot is null)
        {
            _original.RestoreInto(_layer.Weight);
            ReleaseOriginal();
        }
        else
        {
            using var noGrad = torch.no_grad();
            _layer.Weight.copy_(snapshot);
        }
        _merged.RemoveRange(mergedCountBefore, _merged.Count - mergedCountBefore);
    }

    /// <summary>PEFT's <c>unmerge</c>, but exact: the original weight is copied back bit for bit.</summary>
    internal bool Unmerge()
    {
        if (_merged.Count == 0) return false;
        _original.RestoreInto(_layer.Weight);
        _merged.Clear();
        ReleaseOriginal();
        InvalidateSignature();
        return true;
    }

    private void ReleaseOriginal()
    {
        if (_built == Built.Materialized) return;
        _original.Release();
    }

    // ------------------------------------------------------------------ device / dtype and unload

    /// <summary>Moves or casts the adapters and the original copy after the module moved its parameters.</summary>
    internal void OnModuleMoved(Device? device, ScalarType? dtype)
    {
        foreach (var w in _adapters) w.MoveTo(device, dtype);
        _original.MoveTo(device, dtype);
        _batched.Release();
        if (_built == Built.Cache) _built = Built.None;
        InvalidateSignature();
    }

    /// <summary>Moves adapter <paramref name="name"/> to <paramref name="device"/> (diffusers' <c>set_lora_device</c>).</summary>
    internal void MoveAdapter(string name, Device device)
    {
        if (!_byName.TryGetValue(name, out var w)) return;
        if (_graph is null) Unbuild();
        w.MoveTo(device, null);
        _batched.Release();
    }

    /// <summary>
    /// Removes every adapter and forgets the LoRA state (diffusers' <c>unload_lora</c>): a materialized fold is undone,
    /// fused adapters stay in the weight (as when PEFT replaces the wrapper by its base layer).
    /// </summary>
    internal void Unload()
    {
        Unbuild();
        foreach (var w in _adapters) w.Dispose();
        _adapters.Clear();
        _byName.Clear();
        _names.Clear();
        _merged.Clear();
        _original.Release();
        _batched.Release();
        _activeOverride = null;
        Disabled = false;
        IsInjected = false;
        _layerVersion++;
    }

    /// <summary>Releases the component binding (after <see cref="Unload"/>).</summary>
    internal void Release()
    {
        Owner = null;
        Host = null;
        ModulePath = null;
    }

    /// <summary>Undoes a materialized fold so that the weight holds the base (or fused) values.</summary>
    internal void Dematerialize() => Unbuild();
}
