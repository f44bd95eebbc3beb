using System.Collections.Generic;
using LoraSdk.Typed.Ranks;

namespace LoraSdk.Typed;

/// <summary>
/// The weighted adapters of an equal-rank merge (PEFT's <c>linear</c>, <c>ties</c>, <c>dare_linear</c>,
/// <c>dare_ties</c>, <c>magnitude_prune</c>). Every adapter has the rank <typeparamref name="TRank"/>: start with
/// <see cref="WeightedAdapter{TBase, TRank}.And"/> and continue with <see cref="And"/>; an adapter of another rank
/// is a compile error (CS1503), where PEFT would raise only when the merge runs.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
/// <typeparam name="TRank">The common rank marker.</typeparam>
public sealed class EqualRankMerge<TBase, TRank> : LoraMerge<TBase>
    where TBase : BaseModel
    where TRank : RankMarker
{
    internal EqualRankMerge(WeightedAdapter<TBase, TRank> first)
        : base(new WeightedAdapter<TBase>[] { first })
    {
    }

    private EqualRankMerge(IReadOnlyList<WeightedAdapter<TBase>> adapters)
        : base(adapters)
    {
    }

    /// <summary>This merge plus <paramref name="next"/>, which must have the same rank.</summary>
    public EqualRankMerge<TBase, TRank> And(WeightedAdapter<TBase, TRank> next)
    {
        var list = new List<WeightedAdapter<TBase>>(Adapters) { next };
        return new EqualRankMerge<TBase, TRank>(list.ToArray());
    }
}
