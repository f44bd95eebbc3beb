namespace LoraSdk.Core;

/// <summary>The key-naming families <see cref="LoraFileModel.Format"/> reports.</summary>
public static class LoraKeyFormats
{
    /// <summary>PEFT / current diffusers: <c>[unet.|text_encoder.|text_encoder_2.]&lt;module&gt;.lora_A.weight</c>.</summary>
    public const string Peft = "peft";

    /// <summary>Old diffusers attention processors: <c>.lora.down.weight</c>, <c>to_q_lora.down.weight</c>, <c>lora_linear_layer.down.weight</c>.</summary>
    public const string DiffusersOld = "diffusers_old";

    /// <summary>kohya sd-scripts / A1111 with diffusers module names: <c>lora_unet_down_blocks_1_…lora_down.weight</c>.</summary>
    public const string Kohya = "kohya";

    /// <summary>kohya with SGM/LDM UNet block names: <c>lora_unet_input_blocks_4_1_…</c> (what SDXL kohya files use).</summary>
    public const string KohyaSgm = "kohya_sgm";

    /// <summary>kohya-style keys with LyCORIS tensors (LoCon <c>lora_mid</c>, LoHa, LoKr, ...).</summary>
    public const string Lycoris = "lycoris";

    /// <summary>
    /// kohya / sd-scripts Flux keys with BFL layer names: <c>lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight</c>,
    /// <c>lora_unet_single_blocks_0_linear1…</c>, <c>lora_te1_…</c> for CLIP; also ComfyUI's spelling
    /// <c>diffusion_model.double_blocks.0.img_attn.qkv.lora_down.weight</c>. Fused layers are split and alphas folded
    /// as diffusers' <c>_convert_kohya_flux_lora_to_diffusers</c> does (<see cref="LoraModuleSpec.Conversion"/>).
    /// </summary>
    public const string KohyaFlux = "kohya_flux";

    /// <summary>kohya-style keys with diffusers Flux names: <c>lora_transformer_transformer_blocks_0_attn_to_q.lora_down.weight</c> (alphas folded).</summary>
    public const string KohyaTransformer = "kohya_transformer";

    /// <summary>XLabs Flux attention-processor LoRA: <c>double_blocks.0.processor.qkv_lora1.down.weight</c> (q/k/v split, no alpha).</summary>
    public const string XLabs = "xlabs";

    /// <summary>
    /// BFL layer names with PEFT suffixes: <c>double_blocks.0.img_attn.qkv.lora_A.weight</c> (Flux Control LoRAs), also
    /// under <c>base_model.model.</c> (fal Kontext) or <c>diffusion_model.</c>.
    /// </summary>
    public const string Bfl = "bfl";

    /// <summary>
    /// LyCORIS LoHa / LoKr tensors under diffusers module paths with a component prefix
    /// (<c>unet.&lt;module&gt;.hada_w1_a</c>, <c>.lokr_w1</c>, <c>.alpha</c>): the form LoraSdk saves these variants in.
    /// </summary>
    public const string LycorisDiffusers = "lycoris_diffusers";

    /// <summary>Keys of more than one family.</summary>
    public const string Mixed = "mixed";

    /// <summary>No key could be mapped.</summary>
    public const string Unknown = "unknown";
}
