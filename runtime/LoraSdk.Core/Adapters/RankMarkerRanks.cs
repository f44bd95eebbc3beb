namespace LoraSdk.Core;

/// <summary>
/// The ranks that have a type-level marker (<c>LoraSdk.Typed.Ranks.Rank{n}</c>): every rank 1–256 and the multiples of 32
/// up to 1024. The marker types are generated from this rule when LoraSdk.Typed builds, and the generator gives an
/// adapter a rank type exactly when this says so.
/// </summary>
public static class RankMarkerRanks
{
    /// <summary>The largest rank with a marker type.</summary>
    public const int MaxSupportedRank = 1024;

    /// <summary>True when <c>Rank{<paramref name="rank"/>}</c> exists.</summary>
    public static bool IsSupported(int rank) => (rank >= 1 && rank <= 256) || (rank > 256 && rank <= MaxSupportedRank && rank % 32 == 0);
}
