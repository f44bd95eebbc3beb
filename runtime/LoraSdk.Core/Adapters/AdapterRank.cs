using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// The rank of a whole adapter, PEFT's rule: the largest rank it has anywhere — <c>max(r, *rank_pattern.values())</c>
/// of its config, which is the largest rank among its modules. Equal-rank merges compare it, hotswap pads to it, and
/// the generator types adapters by it.
/// </summary>
public static class AdapterRank
{
    /// <summary>The rank of an adapter whose config has <paramref name="r"/> and <paramref name="rankPatternValues"/>.</summary>
    public static int FromConfig(int r, IEnumerable<int> rankPatternValues)
    {
        if (rankPatternValues is null) throw new ArgumentNullException(nameof(rankPatternValues));
        int max = r;
        foreach (int v in rankPatternValues) if (v > max) max = v;
        return max;
    }

    /// <summary>The rank of an adapter whose modules have <paramref name="moduleRanks"/> (at least one).</summary>
    public static int FromModules(IEnumerable<int> moduleRanks)
    {
        if (moduleRanks is null) throw new ArgumentNullException(nameof(moduleRanks));
        int max = 0;
        bool any = false;
        foreach (int v in moduleRanks)
        {
            any = true;
            if (v > max) max = v;
        }
        return any ? max : throw new ArgumentException("an adapter has at least one module", nameof(moduleRanks));
    }
}
