using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// The one home of the rules that decide whether an adapter can be hot swapped into a slot — the loaded adapter whose
/// storage it is copied into (diffusers' <c>load_lora_weights(…, hotswap=True)</c>, PEFT's
/// <c>check_hotswap_configs_compatible</c> and <c>hotswap_adapter_from_state_dict</c>):
/// <list type="number">
/// <item>the config keys PEFT compares agree (<see cref="ConfigKeys"/>);</item>
/// <item>both adapters are plain LoRA (a swap copies A/B factors; <see cref="LoraVariantPolicy.CanHotswapAndMerge"/>);</item>
/// <item>the new adapter targets only layers the loaded one has (PEFT's "unexpected keys");</item>
/// <item>each new module's rank fits the slot's rank at its layer — the stored rank, or the target rank once
/// <c>enable_lora_hotswap(target_rank)</c> padded the slot (which itself needs every module's rank within it).</item>
/// </list>
/// The engine checks these before a swap copies anything; the generator checks a manifest's hotswap groups with them
/// (LSDK007, LSDK008, LSDK018, LSDK021). Only the denoiser part of an adapter is swapped (diffusers refuses text
/// encoders); callers pass that part.
/// </summary>
internal static class HotswapCompatibility
{
    /// <summary>PEFT's <c>CONFIG_KEYS_TO_CHECK</c> for LoRA, in the order it compares them.</summary>
    public static IReadOnlyList<string> ConfigKeys { get; } = new[] { "use_rslora", "lora_dropout", "alpha_pattern", "use_dora" };

    /// <summary>
    /// Every rule, in the order the engine applies them: the first config key that differs, the variants, the layers
    /// outside the slot, then each new module whose rank is above the slot's. An empty list: the swap is allowed.
    /// </summary>
    /// <param name="slot">The loaded adapter (its module ranks are its stored ranks unless <paramref name="targetRank"/> is set).</param>
    /// <param name="incoming">The adapter to swap in.</param>
    /// <param name="targetRank">
    /// The rank <c>enable_lora_hotswap</c> padded the slot to, or null: then every module of the new adapter must fit
    /// it (as every module of the first adapter had to); without it, a module fits the slot's stored rank at its layer.
    /// </param>
    public static IReadOnlyList<HotswapFinding> Check(HotswapAdapterFacts slot, HotswapAdapterFacts incoming, int? targetRank = null)
    {
        if (slot is null) throw new ArgumentNullException(nameof(slot));
        if (incoming is null) throw new ArgumentNullException(nameof(incoming));
        var findings = new List<HotswapFinding>();
        if (CompareConfigs(slot.Config, incoming.Config) is HotswapFinding config) findings.Add(config);
        if (CheckVariants(slot, incoming) is HotswapFinding variants) findings.Add(variants);
        if (CheckLayers(slot, incoming) is HotswapFinding layers) findings.Add(layers);
        if (targetRank is int target)
        {
            findings.AddRange(CheckPaddable(incoming, target));
            return findings;
        }
        var slotRanks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in slot.Modules) slotRanks[m.Layer] = m.Rank;
        foreach (var m in incoming.Modules)
        {
            if (slotRanks.TryGetValue(m.Layer, out int slotRank) && CheckRank(m, slotRank) is HotswapFinding rank) findings.Add(rank);
        }
        return findings;
    }

    /// <summary>
    /// The rule <c>enable_lora_hotswap(target_rank)</c> applies to the first adapter it pads (PEFT's
    /// <c>prepare_model_for_compiled_hotswap</c>): every module's rank within <paramref name="targetRank"/>.
    /// </summary>
    public static IReadOnlyList<HotswapFinding> CheckPaddable(HotswapAdapterFacts adapter, int targetRank)
    {
        if (adapter is null) throw new ArgumentNullException(nameof(adapter));
        var findings = new List<HotswapFinding>();
        foreach (var m in adapter.Modules)
            if (CheckRank(m, targetRank) is HotswapFinding f) findings.Add(f);
        return findings;
    }

    /// <summary>
    /// PEFT's <c>check_hotswap_configs_compatible</c>: the first of <see cref="ConfigKeys"/> whose values differ, with
    /// both values as Python writes them (<c>alpha_pattern</c> compares as a dict: order does not matter); null when
    /// all agree. A key unknown on either side is not compared.
    /// </summary>
    public static HotswapFinding? CompareConfigs(HotswapConfigFacts loaded, HotswapConfigFacts incoming)
    {
        if (loaded is null) throw new ArgumentNullException(nameof(loaded));
        if (incoming is null) throw new ArgumentNullException(nameof(incoming));
        if (loaded.UseRsLora is bool rs0 && incoming.UseRsLora is bool rs1 && rs0 != rs1)
            return HotswapFinding.IncompatibleConfig("use_rslora", PythonBool(rs0), PythonBool(rs1));
        if (loaded.LoraDropout is double d0 && incoming.LoraDropout is double d1 && PythonRepr.Float(d0) != PythonRepr.Float(d1))
            return HotswapFinding.IncompatibleConfig("lora_dropout", PythonRepr.Float(d0), PythonRepr.Float(d1));
        if (loaded.AlphaPattern is { } ap0 && incoming.AlphaPattern is { } ap1 && !SameDict(ap0, ap1))
            return HotswapFinding.IncompatibleConfig("alpha_pattern", PythonDict(ap0), PythonDict(ap1));
        if (loaded.UseDora is bool dora0 && incoming.UseDora is bool dora1 && dora0 != dora1)
            return HotswapFinding.IncompatibleConfig("use_dora", PythonBool(dora0), PythonBool(dora1));
        return null;
    }

    /// <summary>
    /// Both adapters plain LoRA, else a finding naming the loaded adapter's first other variant (module order, else
    /// its <see cref="HotswapAdapterFacts.Variants"/>), the new adapter's other variants and its first module of one
    /// (when modules say their variant); null when both are plain LoRA.
    /// </summary>
    public static HotswapFinding? CheckVariants(HotswapAdapterFacts loaded, HotswapAdapterFacts incoming)
    {
        if (loaded is null) throw new ArgumentNullException(nameof(loaded));
        if (incoming is null) throw new ArgumentNullException(nameof(incoming));
        string? loadedVariant = loaded.Modules.Select(m => m.Variant).FirstOrDefault(v => v != null && !LoraVariantPolicy.CanHotswapAndMerge(v))
            ?? NotPlainVariants(loaded).FirstOrDefault();
        var incomingVariants = NotPlainVariants(incoming);
        if (loadedVariant is null && incomingVariants.Count == 0) return null;
        var incomingModule = incoming.Modules.FirstOrDefault(m => m.Variant != null && !LoraVariantPolicy.CanHotswapAndMerge(m.Variant));
        return HotswapFinding.NotPlainLora(loadedVariant, incomingVariants, incomingModule);
    }

    /// <summary>The variants of <paramref name="adapter"/> that cannot be hot swapped (ordinal order, distinct; empty for plain LoRA).</summary>
    public static IReadOnlyList<string> NotPlainVariants(HotswapAdapterFacts adapter)
    {
        if (adapter is null) throw new ArgumentNullException(nameof(adapter));
        return adapter.Variants.Where(v => !LoraVariantPolicy.CanHotswapAndMerge(v)).ToList();
    }

    /// <summary>
    /// PEFT's "unexpected keys": the new adapter's modules whose layer the loaded adapter does not target (in the new
    /// adapter's order); null when it targets a subset of the loaded adapter's layers. Layers the new adapter lacks are
    /// allowed (a swap zero-fills them).
    /// </summary>
    public static HotswapFinding? CheckLayers(HotswapAdapterFacts loaded, HotswapAdapterFacts incoming)
    {
        if (loaded is null) throw new ArgumentNullException(nameof(loaded));
        if (incoming is null) throw new ArgumentNullException(nameof(incoming));
        var layers = new HashSet<string>(loaded.Modules.Select(m => m.Layer), StringComparer.Ordinal);
        var outside = incoming.Modules.Where(m => !layers.Contains(m.Layer)).ToList();
        return outside.Count == 0 ? null : HotswapFinding.LayersOutsideSlot(outside);
    }

    /// <summary>
    /// A swap copies into the slot's storage and never reallocates: <paramref name="module"/>'s rank must be at most
    /// <paramref name="slotRank"/> (smaller ranks are zero-padded). Null when it fits.
    /// </summary>
    public static HotswapFinding? CheckRank(HotswapModuleFacts module, int slotRank)
    {
        if (module is null) throw new ArgumentNullException(nameof(module));
        return module.Rank > slotRank ? HotswapFinding.RankAboveSlot(module, slotRank) : null;
    }

    private static string PythonBool(bool value) => value ? "True" : "False";

    private static bool SameDict(IReadOnlyList<KeyValuePair<string, double>> a, IReadOnlyList<KeyValuePair<string, double>> b) =>
        a.OrderBy(kv => kv.Key, StringComparer.Ordinal).SequenceEqual(b.OrderBy(kv => kv.Key, StringComparer.Ordinal));

    private static string PythonDict(IReadOnlyList<KeyValuePair<string, double>> pattern) =>
        "{" + string.Join(", ", pattern.Select(kv => PythonRepr.String(kv.Key) + ": " + PythonNumber(kv.Value))) + "}";

    /// <summary>An alpha as diffusers' configs hold it: an int when whole, else a float.</summary>
    private static string PythonNumber(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture) : PythonRepr.Float(v);
}
