using LoraSdk.Typed.Ranks;

namespace LoraSdk.Typed;

/// <summary>
/// A weighted adapter whose rank is part of its type. <see cref="And"/> starts an equal-rank merge; it accepts only
/// adapters of the same rank, so <c>A.At(0.5).And(B.At(0.5))</c> with ranks 4 and 8 fails to compile with CS1503.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
/// <typeparam name="TRank">The rank marker.</typeparam>
public sealed class WeightedAdapter<TBase, TRank> : WeightedAdapter<TBase>
    where TBase : BaseModel
    where TRank : RankMarker
{
    internal WeightedAdapter(LoraAdapter<TBase, TRank> adapter, double weight)
        : base(adapter.Name, weight, adapter)
    {
        RankedAdapter = adapter;
    }

    /// <summary>The manifest adapter.</summary>
    public LoraAdapter<TBase, TRank> RankedAdapter { get; }

    /// <summary>An equal-rank merge of this adapter and <paramref name="next"/> (same base model and rank).</summary>
    public EqualRankMerge<TBase, TRank> And(WeightedAdapter<TBase, TRank> next) => new EqualRankMerge<TBase, TRank>(this).And(next);
}
