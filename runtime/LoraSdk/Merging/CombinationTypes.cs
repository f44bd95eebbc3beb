using System;

namespace LoraSdk.Merging;

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
    public static string Name(CombinationType type)
    {
        foreach (var (t, n) in Names)
        {
            if (t == type) return n;
        }
        throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown combination type.");
    }

    /// <summary>Parses PEFT's string (exact, case-sensitive, like PEFT).</summary>
    /// <exception cref="LoraMergeException">PEFT's <c>Invalid combination_type: …</c>.</exception>
    public static CombinationType Parse(string name)
    {
        if (TryParse(name, out var type)) return type;
        throw new LoraMergeException(LoraMergeErrorKind.InvalidCombinationType, $"Invalid combination_type: {name}");
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

    /// <summary>True for the types PEFT restricts to adapters of equal rank (linear, ties, dare_*, magnitude_prune).</summary>
    public static bool RequiresEqualRanks(CombinationType type) => type switch
    {
        CombinationType.Linear or CombinationType.Ties or CombinationType.DareLinear or CombinationType.DareTies
            or CombinationType.MagnitudePrune => true,
        _ => false,
    };

    /// <summary>True for the types that prune with <c>density</c> (everything except svd, linear and cat).</summary>
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

    /// <summary>True for the TIES types, which elect a majority sign with <see cref="MajoritySignMethod"/>.</summary>
    public static bool UsesMajoritySign(CombinationType type) => type switch
    {
        CombinationType.Ties or CombinationType.TiesSvd or CombinationType.DareTies or CombinationType.DareTiesSvd => true,
        _ => false,
    };
}
