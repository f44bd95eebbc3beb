using System;

namespace LoraSdk.Merging;

/// <summary>One source adapter of a merge: its name, its configured rank and its merge weight.</summary>
public sealed class LoraMergeSource
{
    /// <summary>Creates a source description.</summary>
    /// <param name="name">Adapter name (used in messages).</param>
    /// <param name="rank">
    /// The adapter's configured <c>r</c> (PEFT uses <c>max(r, *rank_pattern.values())</c>); decides the merged rank and
    /// the equal-rank rule.
    /// </param>
    /// <param name="weight">The merge weight (may be negative).</param>
    /// <param name="useRsLora">The adapter's <c>use_rslora</c>; PEFT copies the first adapter's into the merged config.</param>
    public LoraMergeSource(string name, int rank, double weight, bool useRsLora = false)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Rank = rank;
        Weight = weight;
        UseRsLora = useRsLora;
    }

    /// <summary>Adapter name.</summary>
    public string Name { get; }

    /// <summary>Configured rank.</summary>
    public int Rank { get; }

    /// <summary>Merge weight.</summary>
    public double Weight { get; }

    /// <summary>Whether the adapter scales by alpha/√r (rsLoRA).</summary>
    public bool UseRsLora { get; }
}
