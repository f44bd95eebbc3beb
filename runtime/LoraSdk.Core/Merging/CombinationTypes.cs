using System;

namespace LoraSdk.Core;

/// <summary>PEFT names of <see cref="CombinationType"/> and the rules PEFT attaches to each type.</summary>
public static class CombinationTypes
{
    private static readonly (CombinationType Type, string Name)[] Names =
    {
        (CombinationType.Svd, "svd"),
        (CombinationType.Linear, "linear"),
        (CombinationType.Cat, "cat"),
        (CombinationType.Ties, "ties"),
        (CombinationType.TiesSvd, "ties_svd"),
        (CombinationType.DareLinear, "dare_linear"),
        (CombinationType.DareTies, "dare_ties"),
        (CombinationType.DareLinearSvd, "dare_linear_svd"),
        (CombinationType.DareTiesSvd, "dare_ties_svd"),
        (CombinationType.MagnitudePrune, "magnitude_prune"),
        (CombinationType.MagnitudePruneSvd, "magnitude_prune_svd"),
    };

    /// <summary>Every combination type, in PEFT's documentation order.</summary>
    public static CombinationType[] All
    {
        get
        {
            var all = new CombinationType[Names.Length];
            for (int i = 0; i < Names.Length; i++) all[i] = Names[i].Type;
            return all;
        }
    }

    /// <summary>PEFT's string for <paramref name="type"/> (e.g. <c>dare_ties_svd</c>).</summary>
    public static string PeftName(CombinationType type)
    {
        foreach (var (t, n) in Names)
        {
            if (t == type) return n;
        }
        throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown combination type.");
    }

    /// <summary>Parses PEFT's string; false when it names no combination type.</summary>
    public static bool TryParse(string? name, out CombinationType type)
    {
        foreach (var (t, n) in Names)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                type = t;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>True for the types that merge delta weights and re-factorise them by SVD (names ending in <c>svd</c>).</summary>
    public static bool IsSvd(CombinationType type) => type switch
    {
        CombinationType.Svd or CombinationType.TiesSvd or CombinationType.DareLinearSvd
            or CombinationType.DareTiesSvd or CombinationType.MagnitudePruneSvd => true,
        _ => false,
    };

    /// <summary>
    /// True for the types PEFT restricts to adapters of equal rank (linear, ties, dare_linear, dare_ties,
    /// magnitude_prune). An adapter's rank is <see cref="AdapterRank"/>'s: the largest rank of its modules.
    /// </summary>
    public static bool RequiresEqualRanks(CombinationType type) => type switch
    {
        CombinationType.Linear or CombinationType.Ties or CombinationType.DareLinear or CombinationType.DareTies
            or CombinationType.MagnitudePrune => true,
        _ => false,
    };

    /// <summary>True for the types that prune with <c>density</c> (everything except svd, linear and cat); PEFT requires it for them.</summary>
    public static bool UsesDensity(CombinationType type) => type switch
    {
        CombinationType.Svd or CombinationType.Linear or CombinationType.Cat => false,
        _ => true,
    };

    /// <summary>True for the DARE types, which prune at random (seeded).</summary>
    public static bool IsRandom(CombinationType type) => type switch
    {
        CombinationType.DareLinear or CombinationType.DareTies or CombinationType.DareLinearSvd
            or CombinationType.DareTiesSvd => true,
        _ => false,
    };

    /// <summary>The rank of the merged adapter: the sum of the ranks for <c>cat</c>, <paramref name="svdRank"/> (default: the
    /// largest source rank) for the SVD types, the common rank otherwise.</summary>
    public static int MergedRank(CombinationType type, System.Collections.Generic.IReadOnlyList<int> sourceRanks, int? svdRank = null)
    {
        if (sourceRanks is null || sourceRanks.Count == 0) throw new ArgumentException("a merge needs at least one adapter", nameof(sourceRanks));
        int max = 0, sum = 0;
        foreach (int r in sourceRanks)
        {
            if (r > max) max = r;
            sum += r;
        }
        if (type == CombinationType.Cat) return sum;
        if (IsSvd(type)) return svdRank ?? max;
        return max;
    }

    /// <summary>True for the TIES types, which elect a majority sign with <see cref="MajoritySignMethod"/>.</summary>
    public static bool UsesMajoritySign(CombinationType type) => type switch
    {
        CombinationType.Ties or CombinationType.TiesSvd or CombinationType.DareTies or CombinationType.DareTiesSvd => true,
        _ => false,
    };
}
