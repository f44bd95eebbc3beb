using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// Which LoRA variants the engine applies, and the one place that says which parts of a file it must refuse: the
/// engine's load, <c>lorasdk inspect</c> and the generator's LSDK005 all ask here. Applied: LoRA
/// (<see cref="LoraVariants.Lora"/>), PEFT DoRA (<see cref="LoraVariants.PeftDora"/>) and LyCORIS LoHa and LoKr
/// (<see cref="LoraVariants.LoHa"/>, <see cref="LoraVariants.LoKr"/>). Everything else the formats core recognises is
/// refused with its keys, unless a load is told to skip it. Of the applied variants, only plain LoRA can be hotswapped
/// or merged (<see cref="CanHotswapAndMerge"/>).
/// </summary>
public static class LoraVariantPolicy
{
    private static readonly HashSet<string> Applied = new HashSet<string>(StringComparer.Ordinal)
    {
        LoraVariants.Lora, LoraVariants.PeftDora, LoraVariants.LoHa, LoraVariants.LoKr,
    };

    /// <summary>True when the engine applies <paramref name="variant"/> (a <see cref="LoraVariants"/> name).</summary>
    public static bool IsApplied(string variant) => Applied.Contains(variant);

    /// <summary>
    /// True when the engine can hotswap <paramref name="variant"/> into an adapter's storage and combine it in
    /// <c>add_weighted_adapter</c> merges: plain LoRA only (the merge math combines A/B factors, and a hotswap copies them).
    /// </summary>
    public static bool CanHotswapAndMerge(string variant) => string.Equals(variant, LoraVariants.Lora, StringComparison.Ordinal);

    /// <summary>The variants of <paramref name="model"/> the engine does not apply, each with every key of its modules.</summary>
    public static IReadOnlyList<UnsupportedVariant> Refused(LoraFileModel model)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        var result = new List<UnsupportedVariant>();
        foreach (var u in model.Unsupported)
            if (!IsApplied(u.Variant)) result.Add(u);
        var byVariant = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var component in model.Components.Values)
        {
            foreach (var module in component.Values)
            {
                if (IsApplied(module.Variant)) continue;
                if (!byVariant.TryGetValue(module.Variant, out var keys)) byVariant[module.Variant] = keys = new List<string>();
                keys.AddRange(module.Keys);
            }
        }
        foreach (var entry in byVariant)
        {
            entry.Value.Sort(StringComparer.Ordinal);
            result.Add(new UnsupportedVariant(entry.Key, entry.Value.AsReadOnly()));
        }
        return result;
    }
}
