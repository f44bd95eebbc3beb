namespace LoraSdk.Core;

/// <summary>The kind of base layer a LoRA module adapts (PEFT's <c>lora_layer_class</c>).</summary>
public enum LoraLayerKind
{
    /// <summary>A <c>Linear</c> layer: down is (rank, in), up is (out, rank).</summary>
    Linear,

    /// <summary>A <c>Conv2d</c> layer: down is (rank, in, kh, kw), up is (out, rank, 1, 1).</summary>
    Conv2d,
}
