namespace LoraSdk.Layers;

/// <summary>How a layer applies its active, unfused adapters in the forward pass.</summary>
public enum LoraForwardMode
{
    /// <summary>
    /// PEFT's way, but batched: the base output plus one low-rank product over the concatenated, pre-scaled A/B of
    /// all active adapters (rebuilt only when the active set, a scale or a weight changes). Weights never change.
    /// </summary>
    Unfused,

    /// <summary>
    /// Fold the active adapters into the layer's weight (fp32 math) before the next forward and run the plain base
    /// layer; any change of the active set or of a scale first restores the exact original weight (kept as a copy)
    /// and folds again. Costs one weight copy per adapted layer; best when scales stay fixed for many steps.
    /// </summary>
    Materialized,

    /// <summary>
    /// <see cref="Unfused"/> while the adapter configuration of a layer keeps changing, <see cref="Materialized"/> once
    /// the same configuration served <see cref="Adapters.LoraComponent.AutoMaterializeAfter"/> consecutive forward
    /// calls (e.g. every denoising step of a run with fixed scales).
    /// </summary>
    Auto,
}
