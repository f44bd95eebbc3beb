using LoraSdk.Core;

namespace LoraSdk.Typed.Ranks;

/// <summary>Which ranks have a marker type (<c>Rank{n}</c> in this namespace): <see cref="RankMarkerRanks"/>.</summary>
public static class RankMarkers
{
    /// <summary>The largest rank with a marker type.</summary>
    public const int MaxSupportedRank = RankMarkerRanks.MaxSupportedRank;

    /// <summary>True when <c>Rank{<paramref name="rank"/>}</c> exists: every rank 1–256 and the multiples of 32 up to 1024.</summary>
    public static bool IsSupported(int rank) => RankMarkerRanks.IsSupported(rank);
}
