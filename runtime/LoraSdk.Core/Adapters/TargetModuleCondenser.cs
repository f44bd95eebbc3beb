using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// PEFT's <c>_find_minimal_target_modules</c>, applied as PEFT applies it (only to lists of 20 or more module paths):
/// the shortest module-name suffixes that select exactly the target modules and no other module of the model.
/// </summary>
internal static class TargetModuleCondenser
{
    /// <summary>PEFT's <c>MIN_TARGET_MODULES_FOR_OPTIMIZATION</c>.</summary>
    public const int MinTargetModulesForOptimization = 20;

    public static IReadOnlyList<string> Condense(IReadOnlyList<string> targetModules, IEnumerable<string> allModuleNames)
    {
        var targets = new HashSet<string>(targetModules, StringComparer.Ordinal);
        if (targets.Count < MinTargetModulesForOptimization || targets.Contains("")) return targetModules.Distinct(StringComparer.Ordinal).ToList();
        // PEFT: names that are no target and do not end with "." + a target (checked via the name's dotted suffixes).
        var others = allModuleNames.Where(n => n.Length > 0 && !targets.Contains(n) && !EndsWithATarget(n, targets)).ToList();

        var otherSuffixes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in others) foreach (var s in SuffixesShortestFirst(name)) otherSuffixes.Add(s);

        var ordered = targets.Select(t => (Item: t, Suffixes: SuffixesShortestFirst(t))).ToList();
        ordered.Sort((a, b) => CompareLists(a.Suffixes, b.Suffixes));
        var required = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (item, itemSuffixes) in ordered)
        {
            foreach (var suffix in itemSuffixes)
            {
                if (required.Contains(suffix) || otherSuffixes.Contains(suffix)) continue;
                if (!required.Any(r => item.EndsWith("." + r, StringComparison.Ordinal)))
                {
                    required.Add(suffix);
                    break;
                }
            }
        }
        var result = required.ToList();
        result.Sort(StringComparer.Ordinal);
        return result.Count < targets.Count ? result : targetModules.Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool EndsWithATarget(string name, HashSet<string> targets)
    {
        for (int i = name.IndexOf('.'); i >= 0; i = name.IndexOf('.', i + 1))
            if (targets.Contains(name.Substring(i + 1))) return true;
        return false;
    }

    // PEFT's generate_suffixes: shortest suffix first.
    private static List<string> SuffixesShortestFirst(string s)
    {
        var parts = s.Split('.');
        var list = new List<string>(parts.Length);
        for (int i = parts.Length - 1; i >= 0; i--) list.Add(string.Join(".", parts, i, parts.Length - i));
        return list;
    }

    // Python list comparison of strings (lexicographic by code point).
    private static int CompareLists(List<string> a, List<string> b)
    {
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            int c = string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Count.CompareTo(b.Count);
    }
}
