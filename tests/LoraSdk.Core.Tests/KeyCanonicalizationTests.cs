using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>One key → (component, module path, role, format) for every naming family.</summary>
public sealed class KeyCanonicalizationTests
{
    private static readonly LoraKeyCanonicalizer Sdxl = LoraKeyCanonicalizer.For(null);

    [Theory]
    // PEFT / current diffusers, prefixed and unprefixed (save_lora_adapter).
    [InlineData("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight", "unet", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", LoraTensorRole.A, "peft")]
    [InlineData("unet.up_blocks.0.attentions.2.transformer_blocks.1.attn2.to_out.0.lora_B.weight", "unet", "up_blocks.0.attentions.2.transformer_blocks.1.attn2.to_out.0", LoraTensorRole.B, "peft")]
    [InlineData("down_blocks.0.resnets.1.conv2.lora_A.weight", "unet", "down_blocks.0.resnets.1.conv2", LoraTensorRole.A, "peft")]
    [InlineData("mid_block.attentions.0.proj_in.lora_B.weight", "unet", "mid_block.attentions.0.proj_in", LoraTensorRole.B, "peft")]
    [InlineData("base_model.model.up_blocks.1.resnets.0.conv_shortcut.lora_A.weight", "unet", "up_blocks.1.resnets.0.conv_shortcut", LoraTensorRole.A, "peft")]
    [InlineData("text_encoder.encoder.layers.3.self_attn.v_proj.lora_A.weight", "text_encoder", "encoder.layers.3.self_attn.v_proj", LoraTensorRole.A, "peft")]
    [InlineData("text_encoder.text_model.encoder.layers.3.mlp.fc1.lora_B.weight", "text_encoder", "encoder.layers.3.mlp.fc1", LoraTensorRole.B, "peft")]
    [InlineData("text_encoder_2.text_model.encoder.layers.31.self_attn.out_proj.lora_A.weight", "text_encoder_2", "encoder.layers.31.self_attn.out_proj", LoraTensorRole.A, "peft")]
    [InlineData("text_encoder_2.text_projection.lora_A.weight", "text_encoder_2", "text_projection", LoraTensorRole.A, "peft")]
    [InlineData("text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight", "text_encoder", "encoder.layers.0.self_attn.q_proj", LoraTensorRole.A, "peft")]
    [InlineData("unet.down_blocks.1.attentions.0.proj_in.lora_magnitude_vector", "unet", "down_blocks.1.attentions.0.proj_in", LoraTensorRole.Magnitude, "peft")]
    [InlineData("unet.down_blocks.1.attentions.0.proj_in.lora_magnitude_vector.weight", "unet", "down_blocks.1.attentions.0.proj_in", LoraTensorRole.Magnitude, "peft")]
    [InlineData("unet.down_blocks.1.attentions.0.proj_in.alpha", "unet", "down_blocks.1.attentions.0.proj_in", LoraTensorRole.Alpha, "peft")]
    // Old diffusers attention processors.
    [InlineData("unet.down_blocks.1.attentions.1.transformer_blocks.1.attn2.to_k.lora.down.weight", "unet", "down_blocks.1.attentions.1.transformer_blocks.1.attn2.to_k", LoraTensorRole.A, "diffusers_old")]
    [InlineData("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora.down.weight", "unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", LoraTensorRole.A, "diffusers_old")]
    [InlineData("unet.mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora.up.weight", "unet", "mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0", LoraTensorRole.B, "diffusers_old")]
    [InlineData("down_blocks.0.attentions.1.transformer_blocks.0.attn1.processor.to_v_lora.up.weight", "unet", "down_blocks.0.attentions.1.transformer_blocks.0.attn1.to_v", LoraTensorRole.B, "diffusers_old")]
    [InlineData("text_encoder.text_model.encoder.layers.0.self_attn.to_k_lora.down.weight", "text_encoder", "encoder.layers.0.self_attn.k_proj", LoraTensorRole.A, "diffusers_old")]
    [InlineData("text_encoder.text_model.encoder.layers.0.self_attn.to_out_lora.up.weight", "text_encoder", "encoder.layers.0.self_attn.out_proj", LoraTensorRole.B, "diffusers_old")]
    [InlineData("text_encoder_2.text_model.encoder.layers.0.mlp.fc2.lora_linear_layer.up.weight", "text_encoder_2", "encoder.layers.0.mlp.fc2", LoraTensorRole.B, "diffusers_old")]
    // kohya / A1111 with diffusers names.
    [InlineData("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0.lora_down.weight", "unet", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0", LoraTensorRole.A, "kohya")]
    [InlineData("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", "unet", "down_blocks.0.attentions.0.proj_in", LoraTensorRole.B, "kohya")] // SD 1.5 only
    [InlineData("lora_unet_up_blocks_1_attentions_2_transformer_blocks_1_ff_net_0_proj.alpha", "unet", "up_blocks.1.attentions.2.transformer_blocks.1.ff.net.0.proj", LoraTensorRole.Alpha, "kohya")]
    [InlineData("lora_unet_down_blocks_1_resnets_0_conv_shortcut.lora_down.weight", "unet", "down_blocks.1.resnets.0.conv_shortcut", LoraTensorRole.A, "kohya")]
    [InlineData("lora_unet_mid_block_resnets_1_time_emb_proj.lora_up.weight", "unet", "mid_block.resnets.1.time_emb_proj", LoraTensorRole.B, "kohya")]
    [InlineData("lora_unet_time_embedding_linear_1.lora_down.weight", "unet", "time_embedding.linear_1", LoraTensorRole.A, "kohya")]
    [InlineData("lora_unet_add_embedding_linear_2.lora_down.weight", "unet", "add_embedding.linear_2", LoraTensorRole.A, "kohya")]
    [InlineData("lora_unet_up_blocks_0_upsamplers_0_conv.lora_down.weight", "unet", "up_blocks.0.upsamplers.0.conv", LoraTensorRole.A, "kohya")]
    [InlineData("lora_te_text_model_encoder_layers_11_mlp_fc2.lora_up.weight", "text_encoder", "encoder.layers.11.mlp.fc2", LoraTensorRole.B, "kohya")]
    [InlineData("lora_te1_encoder_layers_0_self_attn_k_proj.alpha", "text_encoder", "encoder.layers.0.self_attn.k_proj", LoraTensorRole.Alpha, "kohya")]
    [InlineData("lora_te2_text_model_encoder_layers_31_self_attn_q_proj.lora_down.weight", "text_encoder_2", "encoder.layers.31.self_attn.q_proj", LoraTensorRole.A, "kohya")]
    [InlineData("lora_te2_text_projection.lora_down.weight", "text_encoder_2", "text_projection", LoraTensorRole.A, "kohya")]
    [InlineData("lora_te_text_model_encoder_layers_22_mlp_fc1.lora_down.weight", "text_encoder", "encoder.layers.22.mlp.fc1", LoraTensorRole.A, "kohya")] // SD 2 (OpenCLIP-H) layer
    // kohya with SGM/LDM block names (SDXL layout).
    [InlineData("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight", "unet", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_input_blocks_7_1_transformer_blocks_9_attn2_to_k.lora_up.weight", "unet", "down_blocks.2.attentions.0.transformer_blocks.9.attn2.to_k", LoraTensorRole.B, "kohya_sgm")]
    [InlineData("lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight", "unet", "down_blocks.0.resnets.0.conv1", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_input_blocks_4_0_skip_connection.lora_down.weight", "unet", "down_blocks.1.resnets.0.conv_shortcut", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_input_blocks_3_0_op.lora_down.weight", "unet", "down_blocks.0.downsamplers.0.conv", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_middle_block_1_proj_in.alpha", "unet", "mid_block.attentions.0.proj_in", LoraTensorRole.Alpha, "kohya_sgm")]
    [InlineData("lora_unet_middle_block_2_emb_layers_1.lora_up.weight", "unet", "mid_block.resnets.1.time_emb_proj", LoraTensorRole.B, "kohya_sgm")]
    [InlineData("lora_unet_output_blocks_0_0_out_layers_3.lora_down.weight", "unet", "up_blocks.0.resnets.0.conv2", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_output_blocks_2_2_conv.lora_down.weight", "unet", "up_blocks.0.upsamplers.0.conv", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_output_blocks_5_1_transformer_blocks_1_ff_net_0_proj.lora_down.weight", "unet", "up_blocks.1.attentions.2.transformer_blocks.1.ff.net.0.proj", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_output_blocks_8_0_skip_connection.lora_down.weight", "unet", "up_blocks.2.resnets.2.conv_shortcut", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_time_embed_0.lora_down.weight", "unet", "time_embedding.linear_1", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_label_emb_0_2.lora_down.weight", "unet", "add_embedding.linear_2", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_input_blocks_0_0.lora_down.weight", "unet", "conv_in", LoraTensorRole.A, "kohya_sgm")]
    [InlineData("lora_unet_out_2.lora_up.weight", "unet", "conv_out", LoraTensorRole.B, "kohya_sgm")]
    // LyCORIS LoCon (Tucker) middle kernel.
    [InlineData("lora_unet_down_blocks_0_resnets_0_conv1.lora_mid.weight", "unet", "down_blocks.0.resnets.0.conv1", LoraTensorRole.Mid, "lycoris")]
    [InlineData("lora_unet_input_blocks_1_0_in_layers_2.lora_mid.weight", "unet", "down_blocks.0.resnets.0.conv1", LoraTensorRole.Mid, "lycoris")]
    public void KeysCanonicalize(string key, string component, string path, LoraTensorRole role, string format)
    {
        Assert.True(Sdxl.TryMap(key, out var m), key);
        Assert.Equal(key, m.Key);
        Assert.Equal(component, m.Component);
        Assert.Equal(path, m.ModulePath);
        Assert.Equal(role, m.Role);
        Assert.Equal(format, m.Format);
        Assert.Null(m.Variant);
    }

    [Theory]
    [InlineData("lora_unet_down_blocks_1_attentions_0_proj_in.dora_scale", "dora_scale")]
    [InlineData("lora_unet_down_blocks_1_attentions_0_proj_in.diff", "lycoris_full")]
    [InlineData("lora_unet_down_blocks_1_attentions_0_norm.w_norm", "lycoris_norm")]
    [InlineData("lora_unet_down_blocks_1_attentions_0_proj_in.oft_blocks", "oft")]
    [InlineData("unet.down_blocks.1.attentions.0.proj_in.lora_B.bias", "lora_bias")]
    [InlineData("text_encoder.embeddings.token_embedding.lora_embedding_A", "peft_embedding")]
    public void UnsupportedVariantTensorsAreRecognized(string key, string variant)
    {
        Assert.True(Sdxl.TryMap(key, out var m), key);
        Assert.Equal(variant, m.Variant);
    }

    [Theory]
    [InlineData("lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight")] // no such block
    [InlineData("lora_unet_foo.lora_down.weight")]
    [InlineData("lora_unet_down_blocks_1_attentions_0_proj_in.lora_sideways.weight")]
    [InlineData("lora_te3_text_model_encoder_layers_0_mlp_fc1.lora_down.weight")] // SD3's T5
    [InlineData("lora_te1_text_model_encoder_layers_40_mlp_fc1.lora_down.weight")] // no 41-layer CLIP
    [InlineData("unet.nonexistent.to_q.lora_A.weight")]
    [InlineData("transformer.single_transformer_blocks.0.attn.to_qq.lora_A.weight.x")] // Flux root, no LoRA suffix
    [InlineData("transformer.mid_block.attentions.0.proj_in.lora_A.weight")] // a UNet path under the Flux prefix
    [InlineData("unet..to_q.lora_A.weight")]
    [InlineData(".lora_A.weight")]
    [InlineData("some.random.weight")]
    [InlineData("unet.down_blocks.1.attn1.processor.to_x_lora.down.weight")]
    [InlineData("lora_unet_input_blocks_3_1_proj_in.lora_down.weight")] // with layers_per_block 2, input block 3 is a downsampler
    public void UnknownKeysDoNotMap(string key) => Assert.False(Sdxl.TryMap(key, out _), key);

    [Fact]
    public void SgmIndicesFollowTheGivenLayersPerBlock()
    {
        // One resnet per block: input_blocks 1 = down0.res0, 2 = down0.downsampler, 3 = down1.res0 + attention, ...
        string config = @"{""down_block_types"": [""DownBlock2D"", ""CrossAttnDownBlock2D""], ""up_block_types"": [""CrossAttnUpBlock2D"", ""UpBlock2D""],
            ""block_out_channels"": [32, 64], ""layers_per_block"": 1, ""cross_attention_dim"": 64, ""use_linear_projection"": true}";
        var c = new LoraKeyCanonicalizer(LoraFileModelOptions.ForUnetConfigJson(config));
        Assert.True(c.TryMap("lora_unet_input_blocks_3_1_proj_in.lora_down.weight", out var m));
        Assert.Equal("down_blocks.1.attentions.0.proj_in", m.ModulePath);
        Assert.True(c.TryMap("lora_unet_input_blocks_2_0_op.lora_down.weight", out m));
        Assert.Equal("down_blocks.0.downsamplers.0.conv", m.ModulePath);
        Assert.True(c.TryMap("lora_unet_output_blocks_1_2_conv.lora_down.weight", out m));
        Assert.Equal("up_blocks.0.upsamplers.0.conv", m.ModulePath);
        Assert.True(c.TryMap("lora_unet_output_blocks_2_0_in_layers_2.lora_down.weight", out m));
        Assert.Equal("up_blocks.1.resnets.0.conv1", m.ModulePath);
        // SDXL's layers_per_block 2 gives input block 4 = down1.res0 instead.
        Assert.True(Sdxl.TryMap("lora_unet_input_blocks_4_1_proj_in.lora_down.weight", out m));
        Assert.Equal("down_blocks.1.attentions.0.proj_in", m.ModulePath);
    }

    [Fact]
    public void EverySdxlModuleRoundTripsThroughItsKohyaAndSgmNames()
    {
        foreach (var module in UnetLayout.SdxlBase.Modules)
        {
            Assert.True(Sdxl.TryMap("lora_unet_" + LoraKeyCanonicalizer.Underscored(module.Path) + ".lora_down.weight", out var k), module.Path);
            Assert.Equal(module.Path, k.ModulePath);
            Assert.Equal(LoraKeyFormats.Kohya, k.Format);
            Assert.NotNull(module.SgmPath);
            Assert.True(Sdxl.TryMap("lora_unet_" + LoraKeyCanonicalizer.Underscored(module.SgmPath!) + ".lora_up.weight", out var s), module.SgmPath);
            Assert.Equal(module.Path, s.ModulePath);
            Assert.Equal(LoraKeyFormats.KohyaSgm, s.Format);
        }
        foreach (var module in TextEncoderLayout.ClipG.Modules)
        {
            Assert.True(Sdxl.TryMap("lora_te2_text_model_" + LoraKeyCanonicalizer.Underscored(module.Path) + ".lora_down.weight", out var t), module.Path);
            Assert.Equal((LoraComponents.TextEncoder2, module.Path), (t.Component, t.ModulePath));
        }
    }

    [Fact]
    public void UnderscoredNamesOfAllKnownPathsAreUnambiguous()
    {
        var layouts = UnetLayout.BuiltIn;
        var byUnderscored = layouts.SelectMany(l => l.Modules).Select(m => m.Path).Distinct()
            .GroupBy(LoraKeyCanonicalizer.Underscored).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(byUnderscored);
    }
}
