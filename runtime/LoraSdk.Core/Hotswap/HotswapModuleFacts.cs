using System;

namespace LoraSdk.Core;

/// <summary>
/// One module of an adapter as the hotswap rules see it: the layer it targets (the key both sides are compared by), its
/// rank (for the loaded side: the rank of its stored factors, after any padding) and its variant when known (the
/// generator knows a component's variants, not each module's: see <see cref="HotswapAdapterFacts.Variants"/>).
/// </summary>
internal sealed class HotswapModuleFacts
{
    /// <param name="layer">The targeted layer (a module path; the two sides must name layers alike).</param>
    /// <param name="rank">The module's rank (the rows of its A factor).</param>
    /// <param name="variant">Its <see cref="LoraVariants"/> name, or null when not known per module.</param>
    /// <param name="name">How messages name the module (default: <paramref name="layer"/>), e.g. the path as the file spells it.</param>
    public HotswapModuleFacts(string layer, int rank, string? variant, string? name = null)
    {
        Layer = layer ?? throw new ArgumentNullException(nameof(layer));
        Rank = rank;
        Variant = variant;
        Name = name ?? layer;
    }

    /// <summary>The targeted layer.</summary>
    public string Layer { get; }

    /// <summary>The module's rank.</summary>
    public int Rank { get; }

    /// <summary>The module's variant (<see cref="LoraVariants"/>), or null when not known per module.</summary>
    public string? Variant { get; }

    /// <summary>How messages name the module.</summary>
    public string Name { get; }
}
