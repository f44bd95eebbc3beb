namespace LoraSdk.Typed.Ranks;

/// <summary>
/// Base class of the rank marker types (<see cref="Rank4"/>, <see cref="Rank8"/>, …): type-level ranks that make an
/// equal-rank merge of adapters with different ranks a compile error. Markers exist for every rank 1–256 and for
/// the multiples of 32 up to 1024 (see <see cref="RankMarkers"/>); adapters with other ranks get no rank type and
/// merge through <see cref="LoraMerge{TBase}"/> or the string API.
/// </summary>
public abstract class RankMarker
{
    private protected RankMarker()
    {
    }
}
