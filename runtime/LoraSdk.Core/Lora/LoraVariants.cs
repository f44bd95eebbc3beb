namespace LoraSdk.Core;

/// <summary>
/// Names of the adapter variants the formats core tells apart. <see cref="LoraVariantPolicy"/> says which of them the
/// engine applies; the others are reported (<see cref="UnsupportedVariant.Variant"/>), never dropped silently.
/// </summary>
public static class LoraVariants
{
    /// <summary>LoRA: <c>lora_A</c>/<c>lora_B</c> (kohya <c>lora_down</c>/<c>lora_up</c>), the update <c>s·B·A</c>.</summary>
    public const string Lora = "lora";

    /// <summary>PEFT DoRA: LoRA plus <c>lora_magnitude_vector</c> (<c>use_dora=True</c>).</summary>
    public const string PeftDora = "dora";

    /// <summary>LyCORIS LoCon with a Tucker/CP middle kernel <c>lora_mid</c>.</summary>
    public const string LoconTucker = "locon_mid (Tucker)";

    /// <summary>LyCORIS LoHa (Hadamard product): <c>hada_w1_a</c>, <c>hada_w1_b</c>, <c>hada_w2_a</c>, <c>hada_w2_b</c>, <c>hada_t1/t2</c>.</summary>
    public const string LoHa = "loha";

    /// <summary>LyCORIS LoKr (Kronecker product): <c>lokr_w1</c>, <c>lokr_w2</c>, <c>lokr_w1_a</c>, ... .</summary>
    public const string LoKr = "lokr";

    /// <summary>kohya / LyCORIS DoRA: <c>dora_scale</c> next to <c>lora_down</c>/<c>lora_up</c>.</summary>
    public const string KohyaDora = "dora_scale";

    /// <summary>LyCORIS full weight differences: <c>diff</c>, <c>diff_b</c>.</summary>
    public const string LycorisFull = "lycoris_full";

    /// <summary>LyCORIS norm-layer tuning: <c>w_norm</c>, <c>b_norm</c>.</summary>
    public const string LycorisNorm = "lycoris_norm";

    /// <summary>LyCORIS OFT / BOFT: <c>oft_blocks</c>, <c>oft_diag</c>.</summary>
    public const string Oft = "oft";

    /// <summary>(IA)³: <c>on_input</c> with a bare <c>weight</c>.</summary>
    public const string IA3 = "ia3";

    /// <summary>PEFT LoRA on embeddings: <c>lora_embedding_A</c> / <c>lora_embedding_B</c>.</summary>
    public const string PeftEmbedding = "peft_embedding";

    /// <summary>PEFT <c>lora_bias=True</c>: a <c>lora_B.bias</c> tensor.</summary>
    public const string LoraBias = "lora_bias";

    /// <summary>
    /// Flux Control LoRA norm weights (<c>query_norm.scale</c> / <c>key_norm.scale</c> of a BFL control LoRA): diffusers
    /// overwrites the transformer's q/k norms with them (and widens <c>x_embedder</c>) for FluxControlPipeline.
    /// </summary>
    public const string FluxControlNorm = "flux_control_norm";
}
