namespace LoraSdk.Core;

/// <summary>Why an adapter cannot be hot swapped into a slot (one rule of <see cref="HotswapCompatibility"/> each).</summary>
internal enum HotswapFindingKind
{
    /// <summary>A config key PEFT requires to agree differs (<c>use_rslora</c>, <c>lora_dropout</c>, <c>alpha_pattern</c>, <c>use_dora</c>).</summary>
    IncompatibleConfig,

    /// <summary>One side is not plain LoRA: a hotswap copies A/B factors (<see cref="LoraVariantPolicy.CanHotswapAndMerge"/>).</summary>
    NotPlainLora,

    /// <summary>The new adapter targets layers the slot's adapter does not (PEFT: "unexpected keys").</summary>
    LayersOutsideSlot,

    /// <summary>A module's rank is above the slot's rank at that layer (the target rank once padded): a swap never reallocates.</summary>
    RankAboveSlot,
}
