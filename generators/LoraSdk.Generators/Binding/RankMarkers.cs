namespace LoraSdk.Generators.Binding;

/// <summary>
/// Which ranks have a marker type in LoraSdk.Typed (<c>LoraSdk.Typed.Ranks.Rank{n}</c>). Must equal
/// <c>LoraSdk.Typed.Ranks.RankMarkers.IsSupported</c>; a test checks both against each other.
/// </summary>
internal static class RankMarkers
{
    public static bool IsSupported(int rank) => (rank >= 1 && rank <= 256) || (rank > 256 && rank <= 1024 && rank % 32 == 0);
}
