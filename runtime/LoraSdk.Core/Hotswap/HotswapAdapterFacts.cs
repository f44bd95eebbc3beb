using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// What the hotswap rules (<see cref="HotswapCompatibility"/>) need to know of one adapter's part in one component: its
/// modules (layer, rank, variant) and the config keys that must agree. The engine builds it from a loaded adapter or
/// a file it is about to swap in; the generator from a manifest member's header facts.
/// </summary>
internal sealed class HotswapAdapterFacts
{
    /// <param name="name">The adapter's name (for messages).</param>
    /// <param name="modules">Its modules, in the order messages should meet them.</param>
    /// <param name="config">Its config keys (<see cref="HotswapConfigFacts.Unknown"/> when not known).</param>
    /// <param name="variants">Its variants when its modules do not say each their own (default: the modules' variants).</param>
    public HotswapAdapterFacts(string name, IReadOnlyList<HotswapModuleFacts> modules, HotswapConfigFacts? config = null,
        IEnumerable<string>? variants = null)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Modules = modules ?? throw new ArgumentNullException(nameof(modules));
        Config = config ?? HotswapConfigFacts.Unknown;
        Variants = (variants ?? modules.Where(m => m.Variant != null).Select(m => m.Variant!))
            .Distinct().OrderBy(v => v, StringComparer.Ordinal).ToList();
    }

    /// <summary>The adapter's name.</summary>
    public string Name { get; }

    /// <summary>Its modules.</summary>
    public IReadOnlyList<HotswapModuleFacts> Modules { get; }

    /// <summary>Its config keys.</summary>
    public HotswapConfigFacts Config { get; }

    /// <summary>Its variants (<see cref="LoraVariants"/> names, distinct, ordinal order).</summary>
    public IReadOnlyList<string> Variants { get; }

    /// <summary>The adapter's rank by PEFT's rule (<see cref="AdapterRank"/>: the largest module rank), 0 without modules.</summary>
    public int Rank => Modules.Count == 0 ? 0 : AdapterRank.FromModules(Modules.Select(m => m.Rank));
}
