using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Binding;

/// <summary>
/// The derived facts of one component (rank/alpha = the most common module values, scaling, target summary, packed
/// module list, rank/alpha patterns). Computed once per sidecar in the incremental pipeline's sidecar step, so a
/// manifest edit re-binds without touching the (SDXL: ~1 100) modules of every adapter again.
/// </summary>
internal static class ComponentFacts
{
    private static readonly string[] BlockContainers =
    {
        "down_blocks", "up_blocks", "attentions", "resnets", "transformer_blocks", "layers", "upsamplers", "downsamplers",
    };

    /// <summary>The facts of <paramref name="component"/>; <paramref name="rsLora"/>: scaling alpha / sqrt(rank) instead of alpha / rank.</summary>
    public static ComponentEmitSpec Of(ComponentSpec component, bool rsLora)
    {
        var modules = component.Modules;
        int rank = Mode(component.OtherRanks.Select(r => new KeyValuePair<int, int>(r.Rank, 1))
            .Append(new KeyValuePair<int, int>(component.Rank, modules.Count - component.OtherRanks.Count)));
        double alpha = Mode(component.OtherAlphas.Select(a => new KeyValuePair<double, int>(a.Alpha, 1))
            .Append(new KeyValuePair<double, int>(component.Alpha, modules.Count - component.OtherAlphas.Count)));
        double scaling = rsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
        var leafCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var path in modules)
        {
            string leaf = LeafOf(path);
            leafCounts[leaf] = leafCounts.TryGetValue(leaf, out int n) ? n + 1 : 1;
        }
        var targets = leafCounts.Select(p => new TargetSummary(p.Key, p.Value)).OrderBy(t => t.Leaf, StringComparer.Ordinal).ToEquatableArray();
        return new ComponentEmitSpec(component.Name, rank, alpha, scaling, modules.Count, component.Conv2dModules.Count,
            string.Join("\n", modules),
            modules.Any(m => m.IndexOf('\n') >= 0) ? modules : EquatableArray<string>.Empty,
            targets,
            Pattern(modules, component.OtherRanks, r => r.Module, r => r.Rank, component.Rank, rank, (m, r) => new RankEntry(m, r)),
            Pattern(modules, component.OtherAlphas, a => a.Module, a => a.Alpha, component.Alpha, alpha, (m, a) => new AlphaEntry(m, a)));
    }

    /// <summary>
    /// The modules whose value differs from the component's <paramref name="mode"/>, in module order, from the
    /// sidecar's baseline and exceptions (the exceptions themselves when the baseline is the mode, as the build step writes it).
    /// </summary>
    private static EquatableArray<TEntry> Pattern<TEntry, TValue>(EquatableArray<string> modules, EquatableArray<TEntry> exceptions,
        Func<TEntry, string> module, Func<TEntry, TValue> value, TValue baseline, TValue mode, Func<string, TValue, TEntry> create)
        where TEntry : IEquatable<TEntry>
    {
        var comparer = EqualityComparer<TValue>.Default;
        if (comparer.Equals(baseline, mode)) return exceptions;
        var byModule = exceptions.ToDictionary(module, value, StringComparer.Ordinal);
        return modules
            .Select(m => (Module: m, Value: byModule.TryGetValue(m, out var v) ? v : baseline))
            .Where(p => !comparer.Equals(p.Value, mode))
            .Select(p => create(p.Module, p.Value))
            .ToEquatableArray();
    }

    /// <summary>
    /// The most frequent value over (value, count) pairs (a value may appear more than once); ties go to the larger
    /// value (deterministic, independent of order).
    /// </summary>
    public static T Mode<T>(IEnumerable<KeyValuePair<T, int>> counted)
        where T : IComparable<T>
    {
        var counts = new Dictionary<T, int>();
        foreach (var p in counted)
        {
            if (p.Value > 0) counts[p.Key] = counts.TryGetValue(p.Key, out int c) ? c + p.Value : p.Value;
        }
        return counts.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).First().Key;
    }

    /// <summary>
    /// The layer kind of a module path: the part after the last indexed block container, e.g.
    /// <c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c> → <c>attn1.to_q</c>.
    /// </summary>
    public static string LeafOf(string modulePath)
    {
        int start = LeafStart(modulePath);
        return start == 0 ? modulePath : modulePath.Substring(start);
    }

    /// <summary>Where <see cref="LeafOf"/> starts, scanning segments from the end without splitting the path.</summary>
    private static int LeafStart(string path)
    {
        // `end` is the dot after a candidate index segment; walk back one segment at a time.
        int end = path.LastIndexOf('.');
        while (end > 0)
        {
            int indexStart = path.LastIndexOf('.', end - 1) + 1; // start of the candidate index segment
            if (indexStart <= 1) break;
            int containerEnd = indexStart - 1;
            int containerStart = path.LastIndexOf('.', containerEnd - 1) + 1;
            if (IsIndex(path, indexStart, end) && IsContainer(path, containerStart, containerEnd)) return end + 1;
            end = indexStart - 1;
        }
        return 0;
    }

    private static bool IsIndex(string s, int start, int end)
    {
        if (end <= start) return false;
        for (int i = start; i < end; i++)
        {
            if (s[i] < '0' || s[i] > '9') return false;
        }
        return true;
    }

    private static bool IsContainer(string s, int start, int end)
    {
        foreach (var container in BlockContainers)
        {
            if (container.Length == end - start && string.CompareOrdinal(s, start, container, 0, container.Length) == 0) return true;
        }
        return false;
    }
}
