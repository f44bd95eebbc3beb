namespace LoraSdk.Core;

/// <summary>What a tensor of a LoRA file is for, within its module.</summary>
public enum LoraTensorRole
{
    /// <summary>The down projection A (PEFT <c>lora_A</c>, kohya <c>lora_down</c>, old diffusers <c>.down</c>).</summary>
    A,

    /// <summary>The up projection B (PEFT <c>lora_B</c>, kohya <c>lora_up</c>, old diffusers <c>.up</c>).</summary>
    B,

    /// <summary>A scalar network alpha (kohya <c>.alpha</c>).</summary>
    Alpha,

    /// <summary>The LyCORIS LoCon (Tucker / CP) middle kernel <c>lora_mid</c>.</summary>
    Mid,

    /// <summary>The PEFT DoRA magnitude vector <c>lora_magnitude_vector</c>.</summary>
    Magnitude,

    /// <summary>The PEFT <c>lora_B.bias</c> (LoRA with <c>lora_bias=True</c>).</summary>
    BBias,

    /// <summary>A tensor of a variant this SDK does not apply (LoHa, LoKr, kohya DoRA, ...); see <see cref="LoraKeyMapping.Variant"/>.</summary>
    VariantTensor,
}
