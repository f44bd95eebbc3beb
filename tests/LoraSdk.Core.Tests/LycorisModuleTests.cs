using System;
using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>
/// LyCORIS LoHa and LoKr modules become module specs: variant, rank (LyCORIS' lora_dim), alpha and scale rules, kind,
/// features and kernel from the shapes, every key by role; modules whose shapes do not compose are invalid with a reason.
/// </summary>
public sealed class LycorisModuleTests
{
    private const string Q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"; // Linear 640 → 640
    private const string KohyaQ = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q";
    private const string Conv = "down_blocks.0.resnets.0.conv1"; // Conv2d 320 → 320, 3×3
    private const string KohyaConv = "lora_unet_down_blocks_0_resnets_0_conv1";
    private const string KohyaTe = "lora_te1_text_model_encoder_layers_0_mlp_fc1"; // CLIP-L fc1: Linear 768 → 3072

    private static LoraModuleSpec Single(LoraFileModel model)
    {
        Assert.Empty(model.InvalidModules);
        Assert.Empty(LoraVariantPolicy.Refused(model));
        return Assert.Single(model.Components.Values.SelectMany(c => c.Values));
    }

    private static InvalidLoraModule Invalid(SyntheticFile file)
    {
        var model = file.Read();
        Assert.Equal(0, model.ModuleCount);
        return Assert.Single(model.InvalidModules);
    }

    [Fact]
    public void LohaLinearHasItsRankAlphaAndEveryKeyByRole()
    {
        var model = new SyntheticFile()
            .Tensor(KohyaQ + ".hada_w1_a", 640, 4).Tensor(KohyaQ + ".hada_w1_b", 4, 640)
            .Tensor(KohyaQ + ".hada_w2_a", 640, 4).Tensor(KohyaQ + ".hada_w2_b", 4, 640)
            .ScalarF32(KohyaQ + ".alpha", 2f)
            .Read();
        var m = Single(model);
        Assert.Equal((LoraVariants.LoHa, LoraLayerKind.Linear, 640L, 640L), (m.Variant, m.Kind, m.InFeatures, m.OutFeatures));
        Assert.Equal((4, 2.0, LoraAlphaSource.Tensor, 0.5), (m.Rank, m.Alpha, m.AlphaSource, m.Scaling));
        Assert.Null(m.KernelSize);
        Assert.Null(m.AKey);
        Assert.Null(m.AShape);
        Assert.Equal(KohyaQ + ".alpha", m.AlphaKey);
        Assert.Equal(new[] { LoraTensorRole.Alpha, LoraTensorRole.HadaW1A, LoraTensorRole.HadaW1B, LoraTensorRole.HadaW2A, LoraTensorRole.HadaW2B },
            m.Tensors.Keys);
        Assert.Equal(KohyaQ + ".hada_w2_b", m.Tensors[LoraTensorRole.HadaW2B].Name);
        Assert.Equal(new long[] { 640, 4 }, m.Tensors[LoraTensorRole.HadaW1A].Shape);
        Assert.Equal(new[] { "alpha", "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b" }.Select(s => KohyaQ + "." + s), m.Keys);
        Assert.Equal(LoraKeyFormats.Lycoris, model.Format);
        Assert.Equal(Q, m.ModulePath);
        Assert.True(LoraVariantPolicy.IsApplied(m.Variant));
        Assert.False(LoraVariantPolicy.CanHotswapAndMerge(m.Variant));
    }

    [Fact]
    public void LohaWithFlatFactorsOnAConvLayerIsConv2dWithTheLayoutsKernel()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaConv + ".hada_w1_a", 320, 8).Tensor(KohyaConv + ".hada_w1_b", 8, 320 * 9)
            .Tensor(KohyaConv + ".hada_w2_a", 320, 8).Tensor(KohyaConv + ".hada_w2_b", 8, 320 * 9)
            .Read());
        Assert.Equal((LoraLayerKind.Conv2d, 320L, 320L, 8), (m.Kind, m.InFeatures, m.OutFeatures, m.Rank));
        Assert.Equal(new[] { 3, 3 }, m.KernelSize);
        Assert.Equal(new[] { 1, 1 }, m.Padding);
        Assert.Equal((8.0, LoraAlphaSource.RankDefault, 1.0), (m.Alpha, m.AlphaSource, m.Scaling)); // no .alpha: scale 1
    }

    [Fact]
    public void LohaTuckerIsConv2dWithTheCoresKernelAndTheRankOfW1B()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaConv + ".hada_t1", 4, 4, 3, 3).Tensor(KohyaConv + ".hada_w1_a", 4, 320).Tensor(KohyaConv + ".hada_w1_b", 4, 320)
            .Tensor(KohyaConv + ".hada_t2", 4, 4, 3, 3).Tensor(KohyaConv + ".hada_w2_a", 4, 320).Tensor(KohyaConv + ".hada_w2_b", 4, 320)
            .ScalarF32(KohyaConv + ".alpha", 1f)
            .Read());
        Assert.Equal((LoraVariants.LoHa, LoraLayerKind.Conv2d, 320L, 320L, 4, 0.25), (m.Variant, m.Kind, m.InFeatures, m.OutFeatures, m.Rank, m.Scaling));
        Assert.Equal(new[] { 3, 3 }, m.KernelSize);
        Assert.Contains(LoraTensorRole.HadaT1, m.Tensors.Keys);
        Assert.Contains(LoraTensorRole.HadaT2, m.Tensors.Keys);
    }

    [Fact]
    public void LokrWithAFactorisedSecondFactorScalesByAlphaOverItsRank()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaQ + ".lokr_w1", 8, 8).Tensor(KohyaQ + ".lokr_w2_a", 80, 4).Tensor(KohyaQ + ".lokr_w2_b", 4, 80)
            .ScalarF32(KohyaQ + ".alpha", 3f)
            .Read());
        Assert.Equal((LoraVariants.LoKr, LoraLayerKind.Linear, 640L, 640L), (m.Variant, m.Kind, m.InFeatures, m.OutFeatures));
        Assert.Equal((4, 3.0, LoraAlphaSource.Tensor, 0.75), (m.Rank, m.Alpha, m.AlphaSource, m.Scaling));
    }

    [Fact]
    public void LokrWithBothFactorsFullIgnoresAlpha()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaQ + ".lokr_w1", 8, 8).Tensor(KohyaQ + ".lokr_w2", 80, 80)
            .ScalarF32(KohyaQ + ".alpha", 16f)
            .Read());
        Assert.Equal((1, 1.0, LoraAlphaSource.Ignored, 1.0), (m.Rank, m.Alpha, m.AlphaSource, m.Scaling));
        Assert.Equal(KohyaQ + ".alpha", m.AlphaKey); // still reported
    }

    [Fact]
    public void LokrWithAFactorisedFirstFactorTakesItsRank()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaQ + ".lokr_w1_a", 8, 2).Tensor(KohyaQ + ".lokr_w1_b", 2, 8).Tensor(KohyaQ + ".lokr_w2", 80, 80)
            .ScalarF32(KohyaQ + ".alpha", 1f)
            .Read());
        Assert.Equal((2, 0.5), (m.Rank, m.Scaling));
    }

    [Fact]
    public void LokrWithBothFactorsFactorisedTakesTheSecondFactorsRank()
    {
        var m = Single(new SyntheticFile()
            .Tensor(KohyaQ + ".lokr_w1_a", 8, 2).Tensor(KohyaQ + ".lokr_w1_b", 2, 8)
            .Tensor(KohyaQ + ".lokr_w2_a", 80, 5).Tensor(KohyaQ + ".lokr_w2_b", 5, 80)
            .ScalarF32(KohyaQ + ".alpha", 10f)
            .Read());
        Assert.Equal((5, 2.0), (m.Rank, m.Scaling));
    }

    [Fact]
    public void LokrConvWithAFourDimensionalSecondFactorAndWithTucker()
    {
        var full = Single(new SyntheticFile().Tensor(KohyaConv + ".lokr_w1", 4, 4).Tensor(KohyaConv + ".lokr_w2", 80, 80, 3, 3).Read());
        Assert.Equal((LoraLayerKind.Conv2d, 320L, 320L), (full.Kind, full.InFeatures, full.OutFeatures));
        Assert.Equal(new[] { 3, 3 }, full.KernelSize);

        var tucker = Single(new SyntheticFile()
            .Tensor(KohyaConv + ".lokr_w1", 4, 4).Tensor(KohyaConv + ".lokr_t2", 6, 6, 3, 3)
            .Tensor(KohyaConv + ".lokr_w2_a", 6, 80).Tensor(KohyaConv + ".lokr_w2_b", 6, 80)
            .ScalarF32(KohyaConv + ".alpha", 3f)
            .Read());
        Assert.Equal((LoraLayerKind.Conv2d, 320L, 320L, 6, 0.5), (tucker.Kind, tucker.InFeatures, tucker.OutFeatures, tucker.Rank, tucker.Scaling));

        var flat = Single(new SyntheticFile()
            .Tensor(KohyaConv + ".lokr_w1", 4, 4).Tensor(KohyaConv + ".lokr_w2_a", 80, 2).Tensor(KohyaConv + ".lokr_w2_b", 2, 80 * 9).Read());
        Assert.Equal((LoraLayerKind.Conv2d, 320L, 320L), (flat.Kind, flat.InFeatures, flat.OutFeatures));
        Assert.Equal(new[] { 3, 3 }, flat.KernelSize);
    }

    [Fact]
    public void TextEncoderLokrIsLinear()
    {
        var m = Single(new SyntheticFile().Tensor(KohyaTe + ".lokr_w1", 8, 4).Tensor(KohyaTe + ".lokr_w2_a", 384, 2).Tensor(KohyaTe + ".lokr_w2_b", 2, 192).Read());
        Assert.Equal((LoraComponents.TextEncoder, "encoder.layers.0.mlp.fc1", LoraLayerKind.Linear, 768L, 3072L),
            (m.Component, m.ModulePath, m.Kind, m.InFeatures, m.OutFeatures));
    }

    [Fact]
    public void TheSavedDiffusersPathFormReadsBack()
    {
        var model = new SyntheticFile()
            .Tensor("unet." + Q + ".hada_w1_a", 640, 4).Tensor("unet." + Q + ".hada_w1_b", 4, 640)
            .Tensor("unet." + Q + ".hada_w2_a", 640, 4).Tensor("unet." + Q + ".hada_w2_b", 4, 640)
            .ScalarF32("unet." + Q + ".alpha", 8f)
            .Tensor("text_encoder.text_model.encoder.layers.0.mlp.fc1.lokr_w1", 8, 4)
            .Tensor("text_encoder.text_model.encoder.layers.0.mlp.fc1.lokr_w2", 384, 192)
            .Read();
        Assert.Empty(model.InvalidModules);
        Assert.Empty(model.Unmapped);
        var loha = model.Components["unet"][Q];
        Assert.Equal((LoraVariants.LoHa, 4, 8.0, LoraKeyFormats.LycorisDiffusers), (loha.Variant, loha.Rank, loha.Alpha, loha.Format));
        var lokr = model.Components["text_encoder"]["encoder.layers.0.mlp.fc1"];
        Assert.Equal((LoraVariants.LoKr, 768L, 3072L, 1.0), (lokr.Variant, lokr.InFeatures, lokr.OutFeatures, lokr.Scaling));
        Assert.Equal(LoraKeyFormats.LycorisDiffusers, model.Format);
    }

    [Theory]
    [InlineData("hada_w1_a:640x4,hada_w1_b:4x640,hada_w2_a:640x4,hada_w2_b:4x320", "do not compose")]
    [InlineData("hada_w1_a:640x4,hada_w1_b:5x640,hada_w2_a:640x4,hada_w2_b:4x640", "hada_w1_a [640, 4] and hada_w1_b [5, 640] do not compose")]
    [InlineData("hada_w1_a:640x4,hada_w1_b:4x640,hada_w2_a:640x4", "LoHa module without hada_w2_b")]
    [InlineData("hada_w1_a:4x640,hada_w1_b:4x640,hada_w2_a:4x640,hada_w2_b:4x640,hada_t1:4x4x3x3", "hada_t2")]
    [InlineData("lokr_w1:8x8,lokr_w1_a:8x2,lokr_w1_b:2x8,lokr_w2:80x80", "both lokr_w1 and lokr_w1_a")]
    [InlineData("lokr_w1:8x8", "neither lokr_w2 nor")]
    [InlineData("lokr_w1:8x8,lokr_w2_a:80x4,lokr_w2_b:3x80", "lokr_w2_a [80, 4] and lokr_w2_b [3, 80] do not compose")]
    [InlineData("lokr_w1:8x8,lokr_t2:4x4x3x3,lokr_w2_a:4x80,lokr_w2_b:5x80", "Tucker lokr_t2")]
    [InlineData("hada_w1_a:640x4,hada_w1_b:4x640,hada_w2_a:640x4,hada_w2_b:4x640,lokr_w1:8x8", "mixes the tensors of loha and lokr")]
    [InlineData("hada_w1_a:640x4,hada_w1_b:4x640,hada_w2_a:640x4,hada_w2_b:4x640,lora_down.weight:4x640", "mixes the tensors of LoRA and loha")]
    public void MalformedModulesAreInvalidWithAReason(string tensors, string reason)
    {
        var file = new SyntheticFile();
        foreach (var t in tensors.Split(','))
        {
            var parts = t.Split(':');
            file.Tensor(KohyaQ + "." + parts[0], parts[1].Split('x').Select(long.Parse).ToArray());
        }
        var invalid = Invalid(file);
        Assert.Equal(Q, invalid.ModulePath);
        Assert.Contains(reason, invalid.Reason, StringComparison.Ordinal);
        Assert.Equal(tensors.Split(',').Select(t => KohyaQ + "." + t.Split(':')[0]).OrderBy(k => k, StringComparer.Ordinal), invalid.Keys);
    }

    [Fact]
    public void LycorisKeysOfAnUnknownModuleAreUnmapped()
    {
        var model = new SyntheticFile()
            .Tensor("lora_unet_down_blocks_9_attentions_0_proj_in.hada_w1_a", 4, 4)
            .Tensor(KohyaQ + ".lokr_w1", 8, 8).Tensor(KohyaQ + ".lokr_w2", 80, 80)
            .Read();
        Assert.Equal(new[] { "lora_unet_down_blocks_9_attentions_0_proj_in.hada_w1_a" }, model.Unmapped);
        Assert.Empty(model.Unsupported);
        Assert.Equal(1, model.ModuleCount);
    }

    [Theory]
    [InlineData("lora_unet_down_blocks_0_resnets_0_conv1.hada_w1_a", LoraTensorRole.HadaW1A, "loha", "lycoris")]
    [InlineData("lora_unet_down_blocks_0_resnets_0_conv1.hada_t2", LoraTensorRole.HadaT2, "loha", "lycoris")]
    [InlineData("lora_te1_text_model_encoder_layers_0_mlp_fc1.lokr_w1", LoraTensorRole.LokrW1, "lokr", "lycoris")]
    [InlineData("lora_unet_input_blocks_4_1_proj_in.lokr_w2_b", LoraTensorRole.LokrW2B, "lokr", "lycoris")]
    [InlineData("unet.down_blocks.0.resnets.0.conv1.lokr_t2", LoraTensorRole.LokrT2, "lokr", "lycoris_diffusers")]
    [InlineData("text_encoder_2.text_model.encoder.layers.0.mlp.fc1.hada_w2_b", LoraTensorRole.HadaW2B, "loha", "lycoris_diffusers")]
    public void LycorisTensorsMapWithTheirRoles(string key, LoraTensorRole role, string variant, string format)
    {
        Assert.True(new LoraKeyCanonicalizer().TryMap(key, out var m), key);
        Assert.Equal((role, variant, format), (m.Role, m.Variant, m.Format));
        Assert.NotNull(m.ModulePath);
    }
}
