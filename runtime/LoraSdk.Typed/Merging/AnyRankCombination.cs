namespace LoraSdk.Typed;

/// <summary>PEFT combination types that accept adapters of different ranks.</summary>
public enum AnyRankCombination
{
    /// <summary><c>svd</c>: SVD of the weighted sum of the deltas (rank <c>svd_rank</c> or the largest rank).</summary>
    Svd,
    /// <summary><c>cat</c>: concatenation; the result rank is the sum of the ranks.</summary>
    Cat,
    /// <summary><c>ties_svd</c></summary>
    TiesSvd,
    /// <summary><c>dare_linear_svd</c></summary>
    DareLinearSvd,
    /// <summary><c>dare_ties_svd</c></summary>
    DareTiesSvd,
    /// <summary><c>magnitude_prune_svd</c></summary>
    MagnitudePruneSvd,
}
