using System;
using System.Linq;

namespace LoraSdk.Core.Tests.Flux;

/// <summary>
/// The Flux key layouts that have no diffusers-written fixture, checked against what diffusers'
/// <c>lora_conversion_utils.py</c> (commit 58eb52c) does with them, on synthetic FLUX.1-sized headers: ComfyUI
/// <c>diffusion_model.</c> kohya keys, <c>lora_transformer_</c> keys, XLabs processors, BFL names with PEFT suffixes
/// (Flux Control / fal Kontext), PEFT <c>transformer.</c> keys with and without prefix, kohya <c>lora_te1_</c> CLIP keys.
/// </summary>
public sealed class FluxKeyLayoutTests
{
    private const int R = 16;

    [Fact]
    public void ComfyUiSpellingIsConvertedLikeKohyaAndDropsWhatDiffusersDrops()
    {
        var model = new SyntheticFile()
            .Linear("diffusion_model.double_blocks.0.img_attn.qkv.lora_down.weight", "diffusion_model.double_blocks.0.img_attn.qkv.lora_up.weight", R, 3072, 9216)
            .ScalarF32("diffusion_model.double_blocks.0.img_attn.qkv.alpha", 1f)
            .Linear("diffusion_model.single_blocks.37.linear1.lora_down.weight", "diffusion_model.single_blocks.37.linear1.lora_up.weight", R, 3072, 21504)
            .Linear("diffusion_model.single_blocks.37.linear2.lora_down.weight", "diffusion_model.single_blocks.37.linear2.lora_up.weight", R, 15360, 3072)
            .Linear("text_encoders.clip_l.transformer.text_model.encoder.layers.0.self_attn.q_proj.lora_down.weight",
                "text_encoders.clip_l.transformer.text_model.encoder.layers.0.self_attn.q_proj.lora_up.weight", R, 768, 768)
            .Linear("text_encoders.t5xxl.transformer.encoder.block.0.layer.0.SelfAttention.q.lora_down.weight",
                "text_encoders.t5xxl.transformer.encoder.block.0.layer.0.SelfAttention.q.lora_up.weight", R, 4096, 4096)
            .Read();
        Assert.Equal(LoraKeyFormats.KohyaFlux, model.Format);
        Assert.Equal(LoraArchitectures.Flux, model.ImpliedArchitecture);
        var t = model.Components[LoraComponents.Transformer];
        Assert.Equal(8, t.Count); // q, k, v + single q, k, v, mlp + proj_out
        // alpha 1, rank 16: scale 1/16 → scale_down 0.25, scale_up 0.25 (tensor arithmetic in float32: exact).
        Assert.Equal((0.25, 0.25), (t["transformer_blocks.0.attn.to_k"].Conversion!.AScale, t["transformer_blocks.0.attn.to_k"].Conversion!.BScale));
        Assert.Equal((3072L, 3072L), (t["transformer_blocks.0.attn.to_k"].Conversion!.BRowStart, t["transformer_blocks.0.attn.to_k"].OutFeatures));
        var mlp = t["single_transformer_blocks.37.proj_mlp"];
        Assert.Equal((9216L, 12288L, 3072L), (mlp.Conversion!.BRowStart, mlp.OutFeatures, mlp.InFeatures));
        Assert.True(mlp.Conversion.BlockDiagonalCandidate); // 16 % 4 == 0: decided from the data at load
        // No alpha: diffusers' default alpha is the rank → scale 1.
        Assert.Equal((1.0, 1.0), (mlp.Conversion.AScale, mlp.Conversion.BScale));
        Assert.Equal(new[] { "encoder.layers.0.self_attn.q_proj" }, model.Components[LoraComponents.TextEncoder].Keys);
        Assert.Equal(2, model.Ignored.Count);
        Assert.All(model.Ignored, i => Assert.StartsWith("text_encoders.t5xxl.", i.Key, StringComparison.Ordinal));
        Assert.Empty(model.Unmapped);
        Assert.Empty(model.CheckCompatibility(null, TextEncoderLayout.ClipL, null, FluxTransformerLayout.Flux1Dev));
    }

    [Fact]
    public void KohyaSingleLayerAlphaIsAPythonFloatDivision()
    {
        // alpha.item() / rank in double: 1/3 is not folded further (0.333 * 2 < 1 → 0.667 down, 0.5 up).
        var model = new SyntheticFile()
            .Linear("lora_unet_double_blocks_3_img_attn_proj.lora_down.weight", "lora_unet_double_blocks_3_img_attn_proj.lora_up.weight", 3, 3072, 3072)
            .ScalarF32("lora_unet_double_blocks_3_img_attn_proj.alpha", 1f)
            .Read();
        var c = model.Components[LoraComponents.Transformer]["transformer_blocks.3.attn.to_out.0"].Conversion!;
        Assert.Equal(2.0 / 3.0, c.AScale);
        Assert.Equal(0.5, c.BScale);
    }

    [Fact]
    public void KohyaFusedLayerAlphaIsDividedInTheAlphaTensorsDtype()
    {
        // bfloat16 alpha 1, rank 3: torch computes 1/3 in float32 and rounds to bfloat16 (0.333984375).
        var bf16One = new byte[] { 0x80, 0x3F };
        var model = new SyntheticFile()
            .Linear("lora_unet_double_blocks_0_txt_attn_qkv.lora_down.weight", "lora_unet_double_blocks_0_txt_attn_qkv.lora_up.weight", 3, 3072, 9216)
            .Tensor("lora_unet_double_blocks_0_txt_attn_qkv.alpha", SafetensorsDType.BF16, Array.Empty<long>(), bf16One)
            .Read();
        var c = model.Components[LoraComponents.Transformer]["transformer_blocks.0.attn.add_q_proj"].Conversion!;
        Assert.Equal(0.333984375 * 2, c.AScale);
        Assert.Equal(0.5, c.BScale);
    }

    [Fact]
    public void KohyaBlocksBeyondFlux1sCountsAndUnknownNamesAreUnmapped()
    {
        var model = new SyntheticFile()
            .Linear("lora_unet_double_blocks_19_img_mlp_0.lora_down.weight", "lora_unet_double_blocks_19_img_mlp_0.lora_up.weight", R, 3072, 12288)
            .Linear("lora_unet_single_blocks_0_linear3.lora_down.weight", "lora_unet_single_blocks_0_linear3.lora_up.weight", R, 3072, 3072)
            .Linear("lora_unet_single_blocks_0_linear2.lora_down.weight", "lora_unet_single_blocks_0_linear2.lora_up.weight", R, 15360, 3072)
            .Read();
        Assert.Equal(4, model.Unmapped.Count);
        Assert.Equal(new[] { "single_transformer_blocks.0.proj_out" }, model.Components[LoraComponents.Transformer].Keys);
    }

    [Fact]
    public void LoraTransformerKeysAreDiffusersPathsWithFoldedAlpha()
    {
        var model = new SyntheticFile()
            .Linear("lora_transformer_single_transformer_blocks_2_attn_to_q.lora_down.weight", "lora_transformer_single_transformer_blocks_2_attn_to_q.lora_up.weight", R, 3072, 3072)
            .ScalarF32("lora_transformer_single_transformer_blocks_2_attn_to_q.alpha", 8f)
            .Linear("lora_transformer_transformer_blocks_5_attn_add_k_proj.lora_down.weight", "lora_transformer_transformer_blocks_5_attn_add_k_proj.lora_up.weight", R, 3072, 3072)
            .ScalarF32("lora_transformer_transformer_blocks_5_attn_add_k_proj.alpha", 16f)
            .Linear("lora_te1_text_model_encoder_layers_11_mlp_fc2.lora_down.weight", "lora_te1_text_model_encoder_layers_11_mlp_fc2.lora_up.weight", R, 3072, 768)
            .ScalarF32("lora_te1_text_model_encoder_layers_11_mlp_fc2.alpha", 16f)
            .Linear("lora_unet_something.lora_down.weight", "lora_unet_something.lora_up.weight", R, 8, 8)
            .Read();
        Assert.Equal(LoraKeyFormats.KohyaTransformer, model.Format);
        var q = model.Components[LoraComponents.Transformer]["single_transformer_blocks.2.attn.to_q"];
        Assert.Equal((16.0, 0.5, 1.0), (q.Alpha, q.Conversion!.AScale, q.Conversion.BScale));
        Assert.Equal(1.0, model.Components[LoraComponents.Transformer]["transformer_blocks.5.attn.add_k_proj"].Conversion!.AScale);
        Assert.Equal(new[] { "encoder.layers.11.mlp.fc2" }, model.Components[LoraComponents.TextEncoder].Keys);
        Assert.Equal(2, model.Ignored.Count); // the lora_unet_ keys
    }

    [Fact]
    public void XLabsProcessorsSplitQkvWithoutAlpha()
    {
        var model = new SyntheticFile()
            .Linear("double_blocks.0.processor.qkv_lora1.down.weight", "double_blocks.0.processor.qkv_lora1.up.weight", R, 3072, 9216)
            .Linear("double_blocks.0.processor.proj_lora2.down.weight", "double_blocks.0.processor.proj_lora2.up.weight", R, 3072, 3072)
            .Linear("diffusion_model.single_blocks.1.processor.qkv_lora.down.weight", "diffusion_model.single_blocks.1.processor.qkv_lora.up.weight", R, 3072, 9216)
            .Linear("single_blocks.1.processor.proj_lora.down.weight", "single_blocks.1.processor.proj_lora.up.weight", R, 3072, 3072)
            .Read();
        Assert.Equal(LoraKeyFormats.XLabs, model.Format);
        var t = model.Components[LoraComponents.Transformer];
        Assert.Equal(new[]
        {
            "single_transformer_blocks.1.attn.to_k", "single_transformer_blocks.1.attn.to_q", "single_transformer_blocks.1.attn.to_v",
            "single_transformer_blocks.1.proj_out", "transformer_blocks.0.attn.to_add_out",
            "transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_v",
        }, t.Keys);
        var v = t["transformer_blocks.0.attn.to_v"];
        Assert.Equal((16.0, LoraAlphaSource.RankDefault, 6144L, 3072L), (v.Alpha, v.AlphaSource, v.Conversion!.BRowStart, v.OutFeatures));
        Assert.False(v.Conversion.BlockDiagonalCandidate); // only kohya's fused layers are checked for block-diagonal lora_up
        // XLabs single-block proj_lora maps to proj_out, whose real input is inner + mlp: the header says 3072, so it does not fit FLUX.1.
        Assert.Single(model.CheckCompatibility(null, null, null, FluxTransformerLayout.Flux1Dev));
    }

    [Fact]
    public void BflNamesWithPeftSuffixesIncludingControlNormsAndFalKontextPrefix()
    {
        var model = new SyntheticFile()
            .Linear("double_blocks.0.img_attn.qkv.lora_A.weight", "double_blocks.0.img_attn.qkv.lora_B.weight", R, 3072, 9216)
            .Tensor("double_blocks.0.img_attn.qkv.lora_B.bias", 9216)
            .Tensor("double_blocks.0.img_attn.norm.query_norm.scale", 128)
            .Linear("base_model.model.final_layer.adaLN_modulation.1.lora_A.weight", "base_model.model.final_layer.adaLN_modulation.1.lora_B.weight", R, 3072, 6144)
            .Linear("img_in.lora_A.weight", "img_in.lora_B.weight", R, 128, 3072)
            .Read();
        Assert.Equal(LoraKeyFormats.Bfl, model.Format);
        var t = model.Components[LoraComponents.Transformer];
        Assert.True(t["norm_out.linear"].Conversion!.SwapBHalves);
        Assert.Equal(3072L, t["transformer_blocks.0.attn.to_k"].Conversion!.BRowStart);
        Assert.Equal(128L, t["x_embedder"].InFeatures); // a Control LoRA widens x_embedder: it does not fit FLUX.1-dev
        Assert.Contains(model.CheckCompatibility(null, null, null, FluxTransformerLayout.Flux1Dev), i => i.ModulePath == "x_embedder");
        Assert.Equal(new[] { LoraVariants.FluxControlNorm, LoraVariants.LoraBias }, model.Unsupported.Select(u => u.Variant));
    }

    [Fact]
    public void PeftTransformerKeysWithAndWithoutPrefixAreTheTransformerComponent()
    {
        var c = LoraKeyCanonicalizer.For(null);
        Assert.True(c.TryMap("transformer.single_transformer_blocks.3.proj_mlp.lora_A.weight", out var a));
        Assert.Equal((LoraComponents.Transformer, "single_transformer_blocks.3.proj_mlp", LoraTensorRole.A), (a.Component, a.ModulePath, a.Role));
        Assert.True(c.TryMap("proj_out.lora_B.weight", out var b));
        Assert.Equal((LoraComponents.Transformer, "proj_out", LoraTensorRole.B), (b.Component, b.ModulePath, b.Role));
        Assert.True(c.TryMap("transformer_blocks.0.attn.to_out.0.lora_B.weight", out var d));
        Assert.Equal(LoraComponents.Transformer, d.Component);
        Assert.False(c.TryMap("transformer.down_blocks.0.resnets.0.conv1.lora_A.weight", out _));
    }

    [Fact]
    public void KohyaDownWithTransformerPrefixKeepsOnlyTransformerKeys()
    {
        var model = new SyntheticFile()
            .Linear("transformer.transformer_blocks.0.attn.to_q.lora_down.weight", "transformer.transformer_blocks.0.attn.to_q.lora_up.weight", R, 3072, 3072)
            .Tensor("transformer.transformer_blocks.0.attn.to_q.alpha", SafetensorsDType.F32, Array.Empty<long>())
            .Linear("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", R, 768, 3072)
            .Read();
        Assert.Equal(new[] { LoraComponents.Transformer }, model.Components.Keys);
        Assert.Equal(16.0, model.Components[LoraComponents.Transformer]["transformer_blocks.0.attn.to_q"].Alpha);
        Assert.Equal(3, model.Ignored.Count);
    }

    [Fact]
    public void SdxlKohyaFilesAreNotReadAsFlux()
    {
        var model = new SyntheticFile()
            .Linear("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight",
                "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", 4, 640, 640)
            .Read();
        Assert.Equal(LoraKeyFormats.Kohya, model.Format);
        Assert.Equal(new[] { LoraComponents.Unet }, model.Components.Keys);
        Assert.Null(model.Components[LoraComponents.Unet].Values.Single().Conversion);
    }

    [Theory]
    [InlineData("flux-1-dev/lora")]
    [InlineData("flux1")]
    [InlineData("FLUX.1-schnell")]
    public void DeclaredFluxArchitecturesNormalize(string raw) => Assert.Equal(LoraArchitectures.Flux, LoraMetadata.NormalizeArchitecture(raw));

    [Theory]
    [InlineData(1f, 0x3F800000u)]
    [InlineData(1f / 3f, 0x3EAB0000u)]
    public void BFloat16RoundsToNearestEven(float value, uint expectedBits) =>
        Assert.Equal(expectedBits, BitConverter.ToUInt32(BitConverter.GetBytes(TorchScalarArithmetic.ToBFloat16(value)), 0));

    [Theory]
    [InlineData(1f / 3f, 0.333251953125)]
    [InlineData(65504f, 65504.0)]
    [InlineData(1e-6f, 1.0132789611816406e-06)]
    public void HalfRoundsToNearestEven(float value, double expected) => Assert.Equal(expected, TorchScalarArithmetic.ToHalf(value));
}
