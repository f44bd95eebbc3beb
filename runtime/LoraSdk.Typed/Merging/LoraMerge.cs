using System;
using System.Collections.Generic;

namespace LoraSdk.Typed;

/// <summary>
/// The weighted adapters of an <c>add_weighted_adapter</c> call of any combination type (use
/// <see cref="EqualRankMerge{TBase, TRank}"/> for the equal-rank types). Create with
/// <see cref="LoraMerge.Of{TBase}(WeightedAdapter{TBase}[])"/>.
/// </summary>
/// <typeparam name="TBase">The base-model marker shared by every adapter.</typeparam>
public class LoraMerge<TBase>
    where TBase : BaseModel
{
    internal LoraMerge(IReadOnlyList<WeightedAdapter<TBase>> adapters)
    {
        if (adapters.Count == 0) throw new ArgumentException("A merge needs at least one adapter.", nameof(adapters));
        Adapters = adapters;
    }

    /// <summary>The weighted adapters, in order.</summary>
    public IReadOnlyList<WeightedAdapter<TBase>> Adapters { get; }

    /// <summary>The adapter names, in order.</summary>
    public IReadOnlyList<string> AdapterNames => Map(a => a.AdapterName);

    /// <summary>The weights, in order.</summary>
    public IReadOnlyList<double> Weights => Map(a => a.Weight);

    private T[] Map<T>(Func<WeightedAdapter<TBase>, T> select)
    {
        var result = new T[Adapters.Count];
        for (int i = 0; i < result.Length; i++) result[i] = select(Adapters[i]);
        return result;
    }
}

/// <summary>Factory of <see cref="LoraMerge{TBase}"/>.</summary>
public static class LoraMerge
{
    /// <summary>A merge of <paramref name="adapters"/> (all of one base model; mixing base models does not compile).</summary>
    public static LoraMerge<TBase> Of<TBase>(params WeightedAdapter<TBase>[] adapters)
        where TBase : BaseModel
    {
        if (adapters == null) throw new ArgumentNullException(nameof(adapters));
        return new LoraMerge<TBase>((WeightedAdapter<TBase>[])adapters.Clone());
    }
}
