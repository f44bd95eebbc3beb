using LoraSdk.Typed.Ranks;

namespace LoraSdk.Typed;

/// <summary>
/// A manifest adapter whose rank is part of its type (<typeparamref name="TRank"/>, e.g. <see cref="Rank4"/>), so
/// that an equal-rank merge (<see cref="EqualRankMerge{TBase, TRank}"/>: PEFT's <c>linear</c>, <c>ties</c>,
/// <c>dare_*</c>, <c>magnitude_prune</c>) of adapters with different ranks does not compile.
/// The generator uses this base for adapters whose rank has a marker (every rank 1–256 and the multiples of 32 up to 1024).
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
/// <typeparam name="TRank">The rank marker of <see cref="LoraAdapter.Rank"/>.</typeparam>
public abstract class LoraAdapter<TBase, TRank> : LoraAdapter<TBase>
    where TBase : BaseModel
    where TRank : RankMarker
{
    /// <summary>For generated adapter types.</summary>
    protected LoraAdapter()
    {
    }

    /// <summary>This adapter with a scalar weight; the result keeps the rank type for equal-rank merges.</summary>
    /// <param name="weight">The adapter weight; any finite value.</param>
    public new WeightedAdapter<TBase, TRank> At(double weight) => new WeightedAdapter<TBase, TRank>(this, weight);

    /// <summary>This adapter at its manifest <see cref="LoraAdapter.DefaultWeight"/>, keeping the rank type.</summary>
    public new WeightedAdapter<TBase, TRank> AtDefaultWeight() => At(DefaultWeight);
}
