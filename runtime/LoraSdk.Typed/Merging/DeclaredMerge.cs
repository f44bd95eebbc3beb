using System.Collections.Generic;
using LoraSdk.Core;

namespace LoraSdk.Typed;

/// <summary>
/// A merge declared in <c>adapters.manifest</c> (checked at build time: LSDK009 equal ranks, LSDK010 density and
/// weights). The generator emits one sealed subclass per declared merge; run it with
/// <see cref="TypedLoraPipeline{TBase}.AddWeightedAdapter(DeclaredMerge{TBase})"/>.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
public abstract class DeclaredMerge<TBase>
    where TBase : BaseModel
{
    /// <summary>For generated merge types.</summary>
    protected DeclaredMerge()
    {
    }

    /// <summary>The name of the adapter the merge creates.</summary>
    public abstract string Name { get; }

    /// <summary>The merged adapters, in manifest order.</summary>
    public abstract IReadOnlyList<LoraAdapter<TBase>> Adapters { get; }

    /// <summary>One weight per adapter.</summary>
    public abstract IReadOnlyList<double> Weights { get; }

    /// <summary>The combination type.</summary>
    public abstract CombinationType CombinationType { get; }

    /// <summary>Density for TIES/DARE/magnitude pruning, in (0, 1]; null when the type takes none.</summary>
    public abstract double? Density { get; }

    /// <summary>SVD rank for the SVD types (null = the largest rank of the adapters).</summary>
    public abstract int? SvdRank { get; }

    /// <summary>SVD clamp quantile (null = none).</summary>
    public abstract double? SvdClamp { get; }

    /// <summary>PEFT's <c>svd_full_matrices</c>.</summary>
    public abstract bool SvdFullMatrices { get; }

    /// <summary>PEFT's <c>majority_sign_method</c> for the TIES types.</summary>
    public abstract MajoritySignMethod MajoritySignMethod { get; }

    /// <summary>Seed of the DARE random pruning (null = the engine's default).</summary>
    public abstract long? Seed { get; }

    /// <summary>The rank of the merged adapter (<see cref="CombinationTypes.MergedRank"/>).</summary>
    public abstract int ResultRank { get; }

    /// <summary>The merged adapter with a weight, for <see cref="TypedLoraPipeline{TBase}.SetAdapters(WeightedAdapter{TBase}[])"/>.</summary>
    public WeightedAdapter<TBase> At(double weight) => new WeightedAdapter<TBase>(Name, weight, null);

    /// <inheritdoc />
    public override string ToString() => Name;
}
