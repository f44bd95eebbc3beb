using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// The adapter-config keys that must agree for a hotswap (PEFT's <c>CONFIG_KEYS_TO_CHECK</c> for LoRA, checked by
/// <c>check_hotswap_configs_compatible</c>): <c>use_rslora</c>, <c>lora_dropout</c>, <c>alpha_pattern</c>,
/// <c>use_dora</c>. A null value is unknown (the generator knows only what a file's header says) and is not compared.
/// </summary>
internal sealed class HotswapConfigFacts
{
    /// <summary>Nothing known: no key is compared.</summary>
    public static readonly HotswapConfigFacts Unknown = new HotswapConfigFacts(null, null, null, null);

    public HotswapConfigFacts(bool? useRsLora, double? loraDropout, IReadOnlyList<KeyValuePair<string, double>>? alphaPattern, bool? useDora)
    {
        UseRsLora = useRsLora;
        LoraDropout = loraDropout;
        AlphaPattern = alphaPattern;
        UseDora = useDora;
    }

    /// <summary>Every key of <paramref name="config"/> (what the engine knows of a loaded or incoming adapter).</summary>
    public static HotswapConfigFacts Of(LoraAdapterConfig config)
    {
        if (config is null) throw new ArgumentNullException(nameof(config));
        return new HotswapConfigFacts(config.UseRsLora, config.LoraDropout, config.AlphaPattern.ToList(), config.UseDora);
    }

    /// <summary><c>use_rslora</c>, or null when unknown.</summary>
    public bool? UseRsLora { get; }

    /// <summary><c>lora_dropout</c>, or null when unknown.</summary>
    public double? LoraDropout { get; }

    /// <summary><c>alpha_pattern</c> in its declared order, or null when unknown.</summary>
    public IReadOnlyList<KeyValuePair<string, double>>? AlphaPattern { get; }

    /// <summary><c>use_dora</c>, or null when unknown.</summary>
    public bool? UseDora { get; }
}
