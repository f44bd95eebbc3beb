using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// One reason an adapter cannot be hot swapped into a slot (<see cref="HotswapCompatibility"/>), as parts, not a
/// sentence: the engine words it as diffusers/PEFT do, the generator as its diagnostic. Only the parts of its
/// <see cref="Kind"/> are set.
/// </summary>
internal sealed class HotswapFinding
{
    private HotswapFinding(HotswapFindingKind kind)
    {
        Kind = kind;
    }

    /// <summary>The rule that refused.</summary>
    public HotswapFindingKind Kind { get; }

    /// <summary><see cref="HotswapFindingKind.IncompatibleConfig"/>: the key (<c>use_rslora</c>, …).</summary>
    public string? ConfigKey { get; private set; }

    /// <summary><see cref="HotswapFindingKind.IncompatibleConfig"/>: the loaded adapter's value, as Python writes it (<c>True</c>, <c>0.0</c>, <c>{'a': 8}</c>).</summary>
    public string? LoadedValue { get; private set; }

    /// <summary><see cref="HotswapFindingKind.IncompatibleConfig"/>: the new adapter's value, as Python writes it.</summary>
    public string? IncomingValue { get; private set; }

    /// <summary><see cref="HotswapFindingKind.NotPlainLora"/>: the loaded adapter's first variant that is not plain LoRA, or null.</summary>
    public string? LoadedVariant { get; private set; }

    /// <summary><see cref="HotswapFindingKind.NotPlainLora"/>: the new adapter's variants that are not plain LoRA (ordinal order; may be empty).</summary>
    public IReadOnlyList<string> IncomingVariants { get; private set; } = Array.Empty<string>();

    /// <summary>
    /// The new adapter's module the finding is about: its first module that is not plain LoRA
    /// (<see cref="HotswapFindingKind.NotPlainLora"/>, null when only the loaded side is) or the module whose rank is
    /// too large (<see cref="HotswapFindingKind.RankAboveSlot"/>).
    /// </summary>
    public HotswapModuleFacts? Module { get; private set; }

    /// <summary><see cref="HotswapFindingKind.LayersOutsideSlot"/>: the new adapter's modules outside the slot, in its order.</summary>
    public IReadOnlyList<HotswapModuleFacts> Modules { get; private set; } = Array.Empty<HotswapModuleFacts>();

    /// <summary><see cref="HotswapFindingKind.RankAboveSlot"/>: the slot's rank at <see cref="Module"/>'s layer.</summary>
    public int SlotRank { get; private set; }

    internal static HotswapFinding IncompatibleConfig(string key, string loaded, string incoming) =>
        new HotswapFinding(HotswapFindingKind.IncompatibleConfig) { ConfigKey = key, LoadedValue = loaded, IncomingValue = incoming };

    internal static HotswapFinding NotPlainLora(string? loadedVariant, IReadOnlyList<string> incomingVariants, HotswapModuleFacts? module) =>
        new HotswapFinding(HotswapFindingKind.NotPlainLora) { LoadedVariant = loadedVariant, IncomingVariants = incomingVariants, Module = module };

    internal static HotswapFinding LayersOutsideSlot(IReadOnlyList<HotswapModuleFacts> modules) =>
        new HotswapFinding(HotswapFindingKind.LayersOutsideSlot) { Modules = modules };

    internal static HotswapFinding RankAboveSlot(HotswapModuleFacts module, int slotRank) =>
        new HotswapFinding(HotswapFindingKind.RankAboveSlot) { Module = module, SlotRank = slotRank };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        HotswapFindingKind.IncompatibleConfig => $"{Kind}: {ConfigKey}, {LoadedValue} != {IncomingValue}",
        HotswapFindingKind.NotPlainLora => $"{Kind}: loaded {LoadedVariant ?? LoraVariants.Lora}, new {string.Join("+", IncomingVariants)}",
        HotswapFindingKind.LayersOutsideSlot => $"{Kind}: {string.Join(", ", Modules.Select(m => m.Name))}",
        _ => $"{Kind}: '{Module?.Name}' rank {Module?.Rank} > {SlotRank}",
    };
}
