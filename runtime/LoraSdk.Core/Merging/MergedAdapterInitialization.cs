using System;

namespace LoraSdk.Core;

/// <summary>
/// The <c>init_lora_weights</c> setting PEFT copies from the first source adapter's config into the merged adapter.
/// PEFT initialises the merged adapter's new lora_A / lora_B modules from torch's CPU generator before it prunes at
/// random, so for the DARE types this setting decides how far the random stream has advanced when pruning starts.
/// The engine replays those draws so that a seed gives PEFT's masks (see <see cref="LoraMergeOptions.Seed"/>).
/// It has no effect on the deterministic combination types.
/// </summary>
public enum MergedAdapterInitialization
{
    /// <summary><c>init_lora_weights=True</c> (PEFT's default): module init, then Kaiming-uniform lora_A again, lora_B zeros.</summary>
    KaimingUniform,

    /// <summary><c>init_lora_weights=False</c>: only the default <c>nn.Linear</c>/<c>nn.Conv2d</c> initialisation.</summary>
    None,

    /// <summary><c>init_lora_weights="gaussian"</c>: module init, then normal lora_A, lora_B zeros.</summary>
    Gaussian,
}

/// <summary>Maps PEFT's <c>init_lora_weights</c> config value to <see cref="MergedAdapterInitialization"/>.</summary>
public static class MergedAdapterInitializations
{
    /// <summary>
    /// The initialisation PEFT performs for a config whose <c>init_lora_weights</c> is <paramref name="initLoraWeights"/>
    /// (a bool, a string such as <c>"gaussian"</c>, or null = PEFT's default True). Pass the first source adapter's value:
    /// PEFT copies that config into the merged adapter. Other strings (pissa, olora, eva, …) are mapped to
    /// <see cref="MergedAdapterInitialization.None"/>; their random draws, if any, are not replayed.
    /// </summary>
    public static MergedAdapterInitialization FromInitLoraWeights(object? initLoraWeights) => initLoraWeights switch
    {
        null => MergedAdapterInitialization.KaimingUniform,
        bool b => b ? MergedAdapterInitialization.KaimingUniform : MergedAdapterInitialization.None,
        string s when string.Equals(s, "gaussian", StringComparison.OrdinalIgnoreCase) => MergedAdapterInitialization.Gaussian,
        _ => MergedAdapterInitialization.None,
    };
}
