using System;

namespace LoraSdk.Typed;

/// <summary>PEFT's <c>add_weighted_adapter</c> combination type names and which of them need equal ranks.</summary>
public static class CombinationTypes
{
    /// <summary><c>svd</c></summary>
    public const string Svd = "svd";
    /// <summary><c>linear</c> (equal ranks)</summary>
    public const string Linear = "linear";
    /// <summary><c>cat</c> (the result rank is the sum of the ranks)</summary>
    public const string Cat = "cat";
    /// <summary><c>ties</c> (equal ranks)</summary>
    public const string Ties = "ties";
    /// <summary><c>ties_svd</c></summary>
    public const string TiesSvd = "ties_svd";
    /// <summary><c>dare_linear</c> (equal ranks)</summary>
    public const string DareLinear = "dare_linear";
    /// <summary><c>dare_ties</c> (equal ranks)</summary>
    public const string DareTies = "dare_ties";
    /// <summary><c>dare_linear_svd</c></summary>
    public const string DareLinearSvd = "dare_linear_svd";
    /// <summary><c>dare_ties_svd</c></summary>
    public const string DareTiesSvd = "dare_ties_svd";
    /// <summary><c>magnitude_prune</c> (equal ranks)</summary>
    public const string MagnitudePrune = "magnitude_prune";
    /// <summary><c>magnitude_prune_svd</c></summary>
    public const string MagnitudePruneSvd = "magnitude_prune_svd";

    /// <summary>Every combination type PEFT accepts.</summary>
    public static readonly string[] All =
    {
        Svd, Linear, Cat, Ties, TiesSvd, DareLinear, DareTies, DareLinearSvd, DareTiesSvd, MagnitudePrune, MagnitudePruneSvd,
    };

    /// <summary>True for the types PEFT runs only on adapters of equal rank (<c>linear</c>, <c>ties</c>, <c>dare_linear</c>, <c>dare_ties</c>, <c>magnitude_prune</c>).</summary>
    public static bool RequiresEqualRanks(string combinationType) =>
        combinationType == Linear || combinationType == Ties || combinationType == DareLinear ||
        combinationType == DareTies || combinationType == MagnitudePrune;

    /// <summary>True for the types that take a <c>density</c> (TIES, DARE and magnitude pruning, with or without SVD).</summary>
    public static bool UsesDensity(string combinationType) =>
        combinationType != Svd && combinationType != Linear && combinationType != Cat;

    /// <summary>True for the SVD-based types (they take <c>svd_rank</c>).</summary>
    public static bool UsesSvd(string combinationType) =>
        combinationType == Svd || combinationType.EndsWith("_svd", StringComparison.Ordinal);

    /// <summary>The PEFT name of <paramref name="combination"/>.</summary>
    public static string ToPeftName(this EqualRankCombination combination) => combination switch
    {
        EqualRankCombination.Linear => Linear,
        EqualRankCombination.Ties => Ties,
        EqualRankCombination.DareLinear => DareLinear,
        EqualRankCombination.DareTies => DareTies,
        EqualRankCombination.MagnitudePrune => MagnitudePrune,
        _ => throw new ArgumentOutOfRangeException(nameof(combination), combination, "Unknown equal-rank combination type."),
    };

    /// <summary>The PEFT name of <paramref name="combination"/>.</summary>
    public static string ToPeftName(this AnyRankCombination combination) => combination switch
    {
        AnyRankCombination.Svd => Svd,
        AnyRankCombination.Cat => Cat,
        AnyRankCombination.TiesSvd => TiesSvd,
        AnyRankCombination.DareLinearSvd => DareLinearSvd,
        AnyRankCombination.DareTiesSvd => DareTiesSvd,
        AnyRankCombination.MagnitudePruneSvd => MagnitudePruneSvd,
        _ => throw new ArgumentOutOfRangeException(nameof(combination), combination, "Unknown combination type."),
    };

    /// <summary>The PEFT name of <paramref name="method"/> (<c>total</c> or <c>frequency</c>).</summary>
    public static string ToPeftName(this MajoritySignMethod method) => method switch
    {
        MajoritySignMethod.Total => "total",
        MajoritySignMethod.Frequency => "frequency",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown majority sign method."),
    };
}
