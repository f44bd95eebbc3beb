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

    /// <summary>A tensor of a variant this SDK does not apply (kohya DoRA, OFT, ...); see <see cref="LoraKeyMapping.Variant"/>.</summary>
    VariantTensor,

    /// <summary>LyCORIS LoHa <c>hada_w1_a</c>: (out, r); with Tucker (r, out).</summary>
    HadaW1A,

    /// <summary>LyCORIS LoHa <c>hada_w1_b</c>: (r, in·kh·kw); with Tucker (r, in).</summary>
    HadaW1B,

    /// <summary>LyCORIS LoHa <c>hada_w2_a</c>: shaped like <see cref="HadaW1A"/>.</summary>
    HadaW2A,

    /// <summary>LyCORIS LoHa <c>hada_w2_b</c>: shaped like <see cref="HadaW1B"/>.</summary>
    HadaW2B,

    /// <summary>LyCORIS LoHa Tucker core <c>hada_t1</c>: (r, r, kh, kw).</summary>
    HadaT1,

    /// <summary>LyCORIS LoHa Tucker core <c>hada_t2</c>: (r, r, kh, kw).</summary>
    HadaT2,

    /// <summary>LyCORIS LoKr first Kronecker factor <c>lokr_w1</c>, full: (out₁, in₁).</summary>
    LokrW1,

    /// <summary>LyCORIS LoKr <c>lokr_w1_a</c>: (out₁, r), the first factor as <c>lokr_w1_a · lokr_w1_b</c>.</summary>
    LokrW1A,

    /// <summary>LyCORIS LoKr <c>lokr_w1_b</c>: (r, in₁).</summary>
    LokrW1B,

    /// <summary>LyCORIS LoKr second Kronecker factor <c>lokr_w2</c>, full: (out₂, in₂) or (out₂, in₂, kh, kw).</summary>
    LokrW2,

    /// <summary>LyCORIS LoKr <c>lokr_w2_a</c>: (out₂, r); with Tucker (r, out₂).</summary>
    LokrW2A,

    /// <summary>LyCORIS LoKr <c>lokr_w2_b</c>: (r, in₂·kh·kw); with Tucker (r, in₂).</summary>
    LokrW2B,

    /// <summary>LyCORIS LoKr Tucker core <c>lokr_t2</c>: (r, r, kh, kw).</summary>
    LokrT2,
}
