using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Core;
using LoraSdk.Typed.Ranks;

namespace LoraSdk.Typed;

/// <summary>
/// The typed LoRA API over an <see cref="ILoraPipeline"/> whose base model is <typeparamref name="TBase"/>: every
/// method takes generated adapter, group or merge types, and forwards to the string-keyed API with diffusers'
/// semantics. Misuse that the manifest can predict does not compile: an adapter of another base model (CS1503), a
/// hotswap of an adapter that is not a member of the group, an equal-rank merge of adapters with different ranks.
/// Get one with <see cref="LoraPipelineTyping.Typed{TBase}(ILoraPipeline{TBase}, Func{LoraAdapter, string})"/> or
/// <see cref="LoraPipelineTyping.AssumeBaseModel{TBase}(ILoraPipeline, Func{LoraAdapter, string})"/>.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
public sealed class TypedLoraPipeline<TBase>
    where TBase : BaseModel
{
    private readonly Func<LoraAdapter, string> _resolvePath;

    /// <summary>Wraps <paramref name="pipeline"/>.</summary>
    /// <param name="pipeline">The string-keyed pipeline.</param>
    /// <param name="resolvePath">Maps an adapter to its file; default: <see cref="LoraAdapter.RuntimePath"/> under
    /// <see cref="AppContext.BaseDirectory"/> (where the build copies the manifest's files).</param>
    public TypedLoraPipeline(ILoraPipeline pipeline, Func<LoraAdapter, string>? resolvePath = null)
    {
        Pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _resolvePath = resolvePath ?? DefaultPath;
    }

    /// <summary>The string-keyed pipeline (for dynamic cases).</summary>
    public ILoraPipeline Pipeline { get; }

    /// <summary>The file of <paramref name="adapter"/> as this pipeline loads it.</summary>
    public string ResolvePath(LoraAdapter adapter) => _resolvePath(adapter ?? throw new ArgumentNullException(nameof(adapter)));

    /// <summary>
    /// Diffusers' <c>load_lora_weights(file, adapter_name=adapter.Name, prefix=adapter.Prefix)</c>.
    /// </summary>
    /// <returns>The adapter name used (<see cref="LoraAdapter.Name"/>).</returns>
    public string LoadLoraWeights(LoraAdapter<TBase> adapter)
    {
        if (adapter == null) throw new ArgumentNullException(nameof(adapter));
        return Pipeline.LoadLoraWeights(ResolvePath(adapter), adapter.Name, hotswap: false, prefix: adapter.Prefix);
    }

    /// <summary>Diffusers' <c>set_adapters(names, weights)</c> with one scalar weight per adapter.</summary>
    public void SetAdapters(params WeightedAdapter<TBase>[] adapters)
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        var names = new string[adapters.Length];
        var weights = new double[adapters.Length];
        for (int i = 0; i < adapters.Length; i++)
        {
            names[i] = adapters[i].AdapterName;
            weights[i] = adapters[i].Weight;
        }
        Pipeline.SetAdapters(names, weights);
    }

    /// <summary>Diffusers' <c>set_adapters(names, weights)</c> with each adapter at its manifest default weight.</summary>
    public void SetAdapters(params LoraAdapter<TBase>[] adapters)
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        var weighted = new WeightedAdapter<TBase>[adapters.Length];
        for (int i = 0; i < adapters.Length; i++) weighted[i] = adapters[i].AtDefaultWeight();
        SetAdapters(weighted);
    }

    /// <summary>Diffusers' <c>fuse_lora(adapter_names=…)</c> with <c>lora_scale</c> 1.0 (no adapters = the active ones).</summary>
    public void FuseLora(params LoraAdapter<TBase>[] adapters) => FuseLora(1.0, adapters);

    /// <summary>Diffusers' <c>fuse_lora(adapter_names=…, lora_scale=…)</c> (no adapters = the active ones).</summary>
    public void FuseLora(double loraScale, params LoraAdapter<TBase>[] adapters)
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        Pipeline.FuseLora(adapters.Length == 0 ? null : Names(adapters), loraScale);
    }

    /// <summary>Diffusers' <c>delete_adapters</c>.</summary>
    public void DeleteAdapters(params LoraAdapter<TBase>[] adapters)
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        Pipeline.DeleteAdapters(Names(adapters));
    }

    /// <summary>
    /// Prepares the slot of <paramref name="group"/>: <c>enable_lora_hotswap(target_rank=group.TargetRank)</c>, then
    /// loads the group's first adapter (the widest) under the adapter name <see cref="HotswapGroup{TBase}.Name"/>.
    /// Call it before any other adapter is loaded (diffusers' rule).
    /// </summary>
    public HotswapSlot<TBase, TGroup> EnableHotswap<TGroup>(TGroup group)
        where TGroup : HotswapGroup<TBase>
    {
        if (group == null) throw new ArgumentNullException(nameof(group));
        Pipeline.EnableLoraHotswap(group.TargetRank);
        var first = group.First;
        Pipeline.LoadLoraWeights(ResolvePath(first), group.Name, hotswap: false, prefix: first.Prefix);
        HotswapSlotContents.Set(Pipeline, group.Name, first);
        return new HotswapSlot<TBase, TGroup>(this, group);
    }

    /// <summary>
    /// Diffusers' <c>load_lora_weights(file, adapter_name=group.Name, hotswap=True)</c>: replaces the weights in the
    /// group's slot with <paramref name="member"/>'s. Only members of <typeparamref name="TGroup"/> are accepted.
    /// </summary>
    /// <returns>The adapter now in the slot (also <see cref="HotswapSlot{TBase, TGroup}.Current"/> of the group's slot).</returns>
    public LoraAdapter<TBase> Hotswap<TGroup>(TGroup group, IHotswapMember<TGroup> member)
        where TGroup : HotswapGroup<TBase>
    {
        if (group == null) throw new ArgumentNullException(nameof(group));
        var adapter = HotswapSlot<TBase, TGroup>.MemberAdapter(group, member);
        Pipeline.LoadLoraWeights(ResolvePath(adapter), group.Name, hotswap: true, prefix: adapter.Prefix);
        HotswapSlotContents.Set(Pipeline, group.Name, adapter);
        return adapter;
    }

    /// <summary>
    /// Runs a merge declared in the manifest (PEFT's <c>add_weighted_adapter</c>); member adapters that are not
    /// loaded yet are loaded first.
    /// </summary>
    public void AddWeightedAdapter(DeclaredMerge<TBase> merge)
    {
        if (merge == null) throw new ArgumentNullException(nameof(merge));
        var loaded = LoadedAdapterNames();
        foreach (var adapter in merge.Adapters)
        {
            if (!loaded.Contains(adapter.Name)) LoadLoraWeights(adapter);
        }
        Pipeline.AddWeightedAdapter(Names(merge.Adapters), merge.Weights, merge.Name, new LoraMergeOptions
        {
            CombinationType = merge.CombinationType, SvdRank = merge.SvdRank, SvdClamp = merge.SvdClamp,
            SvdFullMatrices = merge.SvdFullMatrices, Density = merge.Density, MajoritySignMethod = merge.MajoritySignMethod,
            Seed = merge.Seed,
        });
    }

    /// <summary>
    /// PEFT's <c>add_weighted_adapter</c> for the equal-rank combination types; <paramref name="merge"/> holds adapters
    /// of one rank by construction.
    /// </summary>
    /// <param name="adapterName">Name of the new adapter.</param>
    /// <param name="merge">The weighted adapters (built with <c>A.At(w).And(B.At(w))</c>).</param>
    /// <param name="combination">The combination type.</param>
    /// <param name="density">Density in (0, 1], required by TIES, DARE and magnitude pruning.</param>
    /// <param name="majoritySignMethod">Sign election for the TIES types.</param>
    /// <param name="seed">Seed of the DARE random pruning.</param>
    public void AddWeightedAdapter<TRank>(string adapterName, EqualRankMerge<TBase, TRank> merge,
        EqualRankCombination combination = EqualRankCombination.Linear, double? density = null,
        MajoritySignMethod majoritySignMethod = MajoritySignMethod.Total, long? seed = null)
        where TRank : RankMarker
    {
        if (merge == null) throw new ArgumentNullException(nameof(merge));
        var type = combination.ToCombinationType();
        CheckDensity(type, density);
        Pipeline.AddWeightedAdapter(merge.AdapterNames, merge.Weights, adapterName, new LoraMergeOptions
        {
            CombinationType = type, Density = density, MajoritySignMethod = majoritySignMethod, Seed = seed,
        });
    }

    /// <summary>PEFT's <c>add_weighted_adapter</c> for the combination types that accept different ranks.</summary>
    /// <param name="adapterName">Name of the new adapter.</param>
    /// <param name="merge">The weighted adapters (<see cref="LoraMerge.Of{TBase}(WeightedAdapter{TBase}[])"/>).</param>
    /// <param name="combination">The combination type.</param>
    /// <param name="svdRank">SVD rank (null = the largest rank).</param>
    /// <param name="svdClamp">SVD clamp quantile.</param>
    /// <param name="svdFullMatrices">PEFT's <c>svd_full_matrices</c>.</param>
    /// <param name="density">Density in (0, 1], required by the TIES, DARE and magnitude-pruning SVD types.</param>
    /// <param name="majoritySignMethod">Sign election for the TIES types.</param>
    /// <param name="seed">Seed of the DARE random pruning.</param>
    public void AddWeightedAdapter(string adapterName, LoraMerge<TBase> merge, AnyRankCombination combination,
        int? svdRank = null, double? svdClamp = null, bool svdFullMatrices = true, double? density = null,
        MajoritySignMethod majoritySignMethod = MajoritySignMethod.Total, long? seed = null)
    {
        if (merge == null) throw new ArgumentNullException(nameof(merge));
        var type = combination.ToCombinationType();
        CheckDensity(type, density);
        if (svdRank.HasValue && svdRank.Value <= 0)
            throw new ArgumentOutOfRangeException(nameof(svdRank), svdRank, $"Merge '{adapterName}': svd_rank must be positive.");
        Pipeline.AddWeightedAdapter(merge.AdapterNames, merge.Weights, adapterName, new LoraMergeOptions
        {
            CombinationType = type, SvdRank = svdRank, SvdClamp = svdClamp, SvdFullMatrices = svdFullMatrices,
            Density = density, MajoritySignMethod = majoritySignMethod, Seed = seed,
        });
    }

    private static void CheckDensity(CombinationType combinationType, double? density)
    {
        if (!CombinationTypes.UsesDensity(combinationType)) return;
        if (!density.HasValue)
            throw new ArgumentException($"Combination type '{CombinationTypes.PeftName(combinationType)}' needs a density in (0, 1].", nameof(density));
        if (!(density.Value > 0 && density.Value <= 1))
            throw new ArgumentOutOfRangeException(nameof(density), density, "density must be in (0, 1].");
    }

    private HashSet<string> LoadedAdapterNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var component in Pipeline.GetListAdapters().Values) names.UnionWith(component);
        return names;
    }

    private static string[] Names(IReadOnlyList<LoraAdapter> adapters)
    {
        var names = new string[adapters.Count];
        for (int i = 0; i < names.Length; i++) names[i] = adapters[i].Name;
        return names;
    }

    private static string DefaultPath(LoraAdapter adapter) =>
        Path.Combine(AppContext.BaseDirectory, adapter.RuntimePath.Replace('/', Path.DirectorySeparatorChar));
}
