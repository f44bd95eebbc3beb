using System;
using LoraSdk.Core;

namespace LoraSdk.Typed;

/// <summary>The <see cref="CombinationType"/> each typed subset stands for.</summary>
public static class TypedCombinations
{
    /// <summary>The combination type of <paramref name="combination"/>.</summary>
    public static CombinationType ToCombinationType(this EqualRankCombination combination) => combination switch
    {
        EqualRankCombination.Linear => CombinationType.Linear,
        EqualRankCombination.Ties => CombinationType.Ties,
        EqualRankCombination.DareLinear => CombinationType.DareLinear,
        EqualRankCombination.DareTies => CombinationType.DareTies,
        EqualRankCombination.MagnitudePrune => CombinationType.MagnitudePrune,
        _ => throw new ArgumentOutOfRangeException(nameof(combination), combination, "Unknown equal-rank combination type."),
    };

    /// <summary>The combination type of <paramref name="combination"/>.</summary>
    public static CombinationType ToCombinationType(this AnyRankCombination combination) => combination switch
    {
        AnyRankCombination.Svd => CombinationType.Svd,
        AnyRankCombination.Cat => CombinationType.Cat,
        AnyRankCombination.TiesSvd => CombinationType.TiesSvd,
        AnyRankCombination.DareLinearSvd => CombinationType.DareLinearSvd,
        AnyRankCombination.DareTiesSvd => CombinationType.DareTiesSvd,
        AnyRankCombination.MagnitudePruneSvd => CombinationType.MagnitudePruneSvd,
        _ => throw new ArgumentOutOfRangeException(nameof(combination), combination, "Unknown combination type."),
    };
}
