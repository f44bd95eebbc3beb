using System;
using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>Module grouping, variants, alpha priority and validation on small synthetic headers.</summary>
public sealed class LoraFileModelTests
{
    private const string Q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
    private const string K = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k";
    private const string KohyaQ = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q";
    private const string KohyaK = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k";
    private const string KohyaConv = "lora_unet_down_blocks_0_resnets_0_conv1";

    [Fact]
    public void LoConWithTuckerMidIsAConvModuleWithTheMidKernel()
    {
        var model = new SyntheticFile()
            .Tensor(KohyaConv + ".lora_down.weight", 4, 320, 1, 1)
            .Tensor(KohyaConv + ".lora_mid.weight", 4, 4, 3, 3)
            .Tensor(KohyaConv + ".lora_up.weight", 320, 4, 1, 1)
            .ScalarF32(KohyaConv + ".alpha", 2f)
            .Read();
        var m = model.Components["unet"]["down_blocks.0.resnets.0.conv1"];
        Assert.Equal(LoraLayerKind.Conv2d, m.Kind);
        Assert.Equal(new[] { 3, 3 }, m.KernelSize);
        Assert.Equal(new[] { 1, 1 }, m.Stride);
        Assert.Equal(4, m.Rank);
        Assert.Equal(2.0, m.Alpha);
        Assert.Equal(0.5, m.Scaling);
        Assert.Equal(KohyaConv + ".lora_mid.weight", m.MidKey);
        Assert.Equal("lycoris", model.Format);
        Assert.Null(model.ImpliedArchitecture); // down_blocks.0.resnets.0.conv1 is 320 -> 320 3x3 in SDXL, SD 1.5 and SD 2: ambiguous
    }

    [Fact]
    public void LoConWithoutMidTakesTheKernelFromTheDownConv()
    {
        var model = new SyntheticFile()
            .Tensor(KohyaConv + ".lora_down.weight", 8, 320, 3, 3)
            .Tensor(KohyaConv + ".lora_up.weight", 320, 8, 1, 1)
            .Read();
        var m = model.Components["unet"]["down_blocks.0.resnets.0.conv1"];
        Assert.Equal((LoraLayerKind.Conv2d, 8, 320L, 320L), (m.Kind, m.Rank, m.InFeatures, m.OutFeatures));
        Assert.Equal(new[] { 3, 3 }, m.KernelSize);
        Assert.Equal("kohya", model.Format);
    }

    [Theory]
    [InlineData("oft_blocks,alpha", "oft")]
    [InlineData("diff,diff_b", "lycoris_full")]
    [InlineData("lora_down.weight,lora_up.weight,alpha,dora_scale", "dora_scale")]
    [InlineData("hada_w1_a,hada_w1_b,hada_w2_a,hada_w2_b,alpha,dora_scale", "dora_scale")]
    public void UnsupportedVariantsReportEveryKeyOfTheirModulesAndDropNothingSilently(string suffixes, string variant)
    {
        var file = new SyntheticFile();
        foreach (var s in suffixes.Split(','))
            file.Tensor(KohyaQ + "." + s, s == "alpha" ? Array.Empty<long>() : new long[] { 4, 4 });
        file.Linear(KohyaK + ".lora_down.weight", KohyaK + ".lora_up.weight", 4, 640, 640);
        var model = file.Read();
        var u = Assert.Single(model.Unsupported);
        Assert.Equal(variant, u.Variant);
        Assert.Equal(suffixes.Split(',').Select(s => KohyaQ + "." + s).OrderBy(k => k, StringComparer.Ordinal), u.Keys);
        Assert.Equal(new[] { K }, model.Components["unet"].Keys);
        Assert.Empty(model.Unmapped);
    }

    [Fact]
    public void PeftDoraIsDetectedAndFlaggedNotDropped()
    {
        var model = new SyntheticFile()
            .Linear("unet." + Q + ".lora_A.weight", "unet." + Q + ".lora_B.weight", 4, 640, 640)
            .Tensor("unet." + Q + ".lora_magnitude_vector", 640)
            .Read();
        var m = model.Components["unet"][Q];
        Assert.True(m.UsesDora);
        Assert.True(model.UsesDora);
        Assert.Equal("unet." + Q + ".lora_magnitude_vector", m.MagnitudeKey);
        Assert.Empty(model.Unsupported);
    }

    [Fact]
    public void MetadataAlphaWinsOverTensorsAndAlphaPatternOverLoraAlpha()
    {
        string meta = "{\"unet.r\": 4, \"unet.lora_alpha\": 16, \"unet.alpha_pattern\": {\"attn1.to_k\": 2}, \"unet.use_rslora\": true}";
        var model = new SyntheticFile()
            .Linear("unet." + Q + ".lora_A.weight", "unet." + Q + ".lora_B.weight", 4, 640, 640)
            .Linear("unet." + K + ".lora_A.weight", "unet." + K + ".lora_B.weight", 4, 640, 640)
            .ScalarF32("unet." + Q + ".alpha", 99f)
            .Meta("lora_adapter_metadata", meta)
            .Read();
        var q = model.Components["unet"][Q];
        var k = model.Components["unet"][K];
        Assert.Equal((16.0, LoraAlphaSource.Metadata), (q.Alpha, q.AlphaSource));
        Assert.Equal((2.0, LoraAlphaSource.MetadataPattern), (k.Alpha, k.AlphaSource));
        Assert.True(model.UsesRsLora);
        Assert.Equal(16.0 / 2.0, q.Scaling); // alpha / sqrt(r)
    }

    [Fact]
    public void UnprefixedMetadataAppliesAndRankDisagreementsAreWarned()
    {
        var model = new SyntheticFile()
            .Linear(Q + ".lora_A.weight", Q + ".lora_B.weight", 8, 640, 640)
            .Meta("lora_adapter_metadata", "{\"r\": 4, \"lora_alpha\": 12, \"rank_pattern\": {}}")
            .Read();
        var q = model.Components["unet"][Q];
        Assert.Equal((12.0, LoraAlphaSource.Metadata), (q.Alpha, q.AlphaSource));
        var w = Assert.Single(model.Warnings);
        Assert.Contains("rank 8 from shapes", w, StringComparison.Ordinal);
    }

    [Fact]
    public void MetadataOfOneComponentDoesNotLeakIntoAnother()
    {
        var model = new SyntheticFile()
            .Linear("unet." + Q + ".lora_A.weight", "unet." + Q + ".lora_B.weight", 4, 640, 640)
            .Linear("text_encoder.encoder.layers.0.mlp.fc1.lora_A.weight", "text_encoder.encoder.layers.0.mlp.fc1.lora_B.weight", 2, 768, 3072)
            .Meta("lora_adapter_metadata", "{\"unet.r\": 4, \"unet.lora_alpha\": 1}")
            .Read();
        Assert.Equal(1.0, model.Components["unet"][Q].Alpha);
        var te = model.Components["text_encoder"]["encoder.layers.0.mlp.fc1"];
        Assert.Equal((2.0, LoraAlphaSource.RankDefault), (te.Alpha, te.AlphaSource));
    }

    [Fact]
    public void MalformedMetadataJsonIsAWarningNotASilentDefault()
    {
        var model = new SyntheticFile()
            .Linear("unet." + Q + ".lora_A.weight", "unet." + Q + ".lora_B.weight", 4, 640, 640)
            .Meta("lora_adapter_metadata", "{\"unet.r\": 4,")
            .Read();
        Assert.Contains(model.Warnings, w => w.Contains("lora_adapter_metadata is not valid JSON", StringComparison.Ordinal));
        Assert.Equal(LoraAlphaSource.RankDefault, model.Components["unet"][Q].AlphaSource);
    }

    [Theory]
    [InlineData(SafetensorsDType.F32, new byte[] { 0, 0, 0, 0x41 }, 8.0)]
    [InlineData(SafetensorsDType.F64, new byte[] { 0, 0, 0, 0, 0, 0, 0x20, 0x40 }, 8.0)]
    [InlineData(SafetensorsDType.F16, new byte[] { 0x00, 0x48 }, 8.0)]
    [InlineData(SafetensorsDType.F16, new byte[] { 0x00, 0x3E }, 1.5)]
    [InlineData(SafetensorsDType.BF16, new byte[] { 0x00, 0x41 }, 8.0)]
    [InlineData(SafetensorsDType.I64, new byte[] { 16, 0, 0, 0, 0, 0, 0, 0 }, 16.0)]
    [InlineData(SafetensorsDType.I32, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, -1.0)]
    [InlineData(SafetensorsDType.I16, new byte[] { 4, 0 }, 4.0)]
    [InlineData(SafetensorsDType.I8, new byte[] { 0xFE }, -2.0)]
    [InlineData(SafetensorsDType.U8, new byte[] { 200 }, 200.0)]
    [InlineData(SafetensorsDType.BOOL, new byte[] { 1 }, 1.0)]
    [InlineData(SafetensorsDType.F8_E4M3, new byte[] { 0x50 }, 8.0)]
    [InlineData(SafetensorsDType.F8_E5M2, new byte[] { 0x48 }, 8.0)]
    public void AlphaScalarsOfEveryDTypeAreDecoded(SafetensorsDType dtype, byte[] bytes, double expected)
    {
        foreach (var shape in new[] { Array.Empty<long>(), new long[] { 1 } })
        {
            var model = new SyntheticFile()
                .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
                .Tensor(KohyaQ + ".alpha", dtype, shape, bytes)
                .Read();
            var m = model.Components["unet"][Q];
            Assert.Equal((expected, LoraAlphaSource.Tensor), (m.Alpha, m.AlphaSource));
        }
    }

    [Fact]
    public void ModulesWithoutAlphaTakeTheComponentsMostFrequentAlphaLikeDiffusers()
    {
        const string v = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_v";
        const string o = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0";
        var model = new SyntheticFile()
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640).ScalarF32(KohyaQ + ".alpha", 1f)
            .Linear(KohyaK + ".lora_down.weight", KohyaK + ".lora_up.weight", 4, 640, 640).ScalarF32(KohyaK + ".alpha", 3f)
            .Linear(v + ".lora_down.weight", v + ".lora_up.weight", 4, 640, 640).ScalarF32(v + ".alpha", 3f)
            .Linear(o + ".lora_down.weight", o + ".lora_up.weight", 4, 640, 640)
            .Read();
        var m = model.Components["unet"]["down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0"];
        Assert.Equal((3.0, LoraAlphaSource.TensorDefault), (m.Alpha, m.AlphaSource));
        Assert.Equal(1.0, model.Components["unet"][Q].Alpha);
    }

    [Fact]
    public void WithoutAnyAlphaEveryModuleGetsTheFirstModulesRankLikeDiffusers()
    {
        // diffusers get_peft_kwargs: r = lora_alpha = first rank; r becomes the most common, lora_alpha stays.
        var model = new SyntheticFile()
            .Linear(KohyaK + ".lora_down.weight", KohyaK + ".lora_up.weight", 8, 640, 640)
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
            .Read();
        Assert.All(model.Components["unet"].Values, m => Assert.Equal((8.0, LoraAlphaSource.RankDefault), (m.Alpha, m.AlphaSource)));
        Assert.Equal(4, model.Components["unet"][Q].Rank);
    }

    [Fact]
    public void HeaderOnlyModelsLeaveAlphaTensorsUnresolvedAndSaySo()
    {
        var bytes = new SyntheticFile()
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
            .ScalarF32(KohyaQ + ".alpha", 8f)
            .Build();
        var header = SafetensorsHeader.Read(new System.IO.MemoryStream(bytes), bytes.Length, "h");
        var model = LoraFileModel.FromHeader(header);
        Assert.Equal((4.0, LoraAlphaSource.Unresolved), (model.Components["unet"][Q].Alpha, model.Components["unet"][Q].AlphaSource));
        Assert.Single(model.Warnings);
        var withReader = LoraFileModel.FromHeader(header, t => ScalarDecoder.ToDouble(bytes, (int)(header.DataOffset + t.Begin), t.DType));
        Assert.Equal(8.0, withReader.Components["unet"][Q].Alpha);
    }

    [Theory]
    [InlineData("missing_up", "has a down tensor but no up tensor")]
    [InlineData("rank_mismatch", "rank mismatch")]
    [InlineData("vector_alpha", "has 2 elements")]
    [InlineData("nan_alpha", "not finite")]
    [InlineData("bad_rank_dims", "neither Linear")]
    [InlineData("duplicate_down", "two lora_A (down) tensors")]
    [InlineData("bad_mid", "LoCon mid")]
    public void InconsistentModulesAreReportedAsInvalidWithTheirKeys(string defect, string reason)
    {
        var f = new SyntheticFile();
        switch (defect)
        {
            case "missing_up": f.Tensor(KohyaQ + ".lora_down.weight", 4, 640); break;
            case "rank_mismatch": f.Tensor(KohyaQ + ".lora_down.weight", 4, 640).Tensor(KohyaQ + ".lora_up.weight", 640, 8); break;
            case "vector_alpha": f.Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640).Tensor(KohyaQ + ".alpha", 2); break;
            case "nan_alpha": f.Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640).ScalarF32(KohyaQ + ".alpha", float.NaN); break;
            case "bad_rank_dims": f.Tensor(KohyaQ + ".lora_down.weight", 4, 640, 3).Tensor(KohyaQ + ".lora_up.weight", 640, 4); break;
            case "duplicate_down":
                f.Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640).Tensor("unet." + Q + ".lora_A.weight", 4, 640);
                break;
            case "bad_mid":
                f.Tensor(KohyaConv + ".lora_down.weight", 4, 320, 3, 3).Tensor(KohyaConv + ".lora_mid.weight", 4, 4, 3, 3).Tensor(KohyaConv + ".lora_up.weight", 320, 4, 1, 1);
                break;
        }
        var model = f.Read();
        var invalid = Assert.Single(model.InvalidModules);
        Assert.Contains(reason, invalid.Reason, StringComparison.Ordinal);
        Assert.Equal(f.Build().Length > 0 ? model.Header.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal) : null, invalid.Keys);
        Assert.Equal(0, model.ModuleCount);
    }

    [Fact]
    public void UnmappedKeysAreListedAndTheRestStillLoads()
    {
        var model = new SyntheticFile()
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
            .Tensor("lora_unet_nonexistent_block.lora_down.weight", 4, 4)
            .Tensor("emb_params", 4, 4)
            .Read();
        Assert.Equal(new[] { "emb_params", "lora_unet_nonexistent_block.lora_down.weight" }, model.Unmapped);
        Assert.Equal(1, model.ModuleCount);
    }

    [Theory]
    [InlineData(2048, "sdxl")]
    [InlineData(768, "sd15")]
    [InlineData(1024, "sd2")]
    public void CrossAttentionWidthImpliesTheArchitecture(int width, string arch)
    {
        // up_blocks.3 attentions exist in SD 1.x/2.x only, so use a block every layout has with the same width:
        // down_blocks.1.attentions.0 (640 wide) in SD 1.x/2.x and SDXL.
        const string k2 = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k";
        var model = new SyntheticFile().Linear(k2 + ".lora_down.weight", k2 + ".lora_up.weight", 4, width, 640).Read();
        Assert.Equal(arch, model.ImpliedArchitecture);
    }

    [Fact]
    public void AmbiguousShapesImplyNothing()
    {
        // attn1.to_q of down block 1 is 640 -> 640 in SDXL, SD 1.5 and SD 2.
        var model = new SyntheticFile().Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640).Read();
        Assert.Null(model.ImpliedArchitecture);
    }

    [Fact]
    public void SgmNamedSdxlFileWithClipGTextEncoderImpliesSdxl()
    {
        var model = new SyntheticFile()
            .Linear("lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q.lora_down.weight", "lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q.lora_up.weight", 4, 640, 640)
            .Linear("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 4, 1280, 5120)
            .Linear("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 4, 768, 3072)
            .Read();
        Assert.Equal("kohya_sgm", model.Format);
        Assert.Equal(new[] { "kohya", "kohya_sgm" }, model.Formats);
        Assert.Equal("sdxl", model.ImpliedArchitecture); // transformer_blocks.1 in down block 1 exists only in SDXL
        var te2Only = new SyntheticFile()
            .Linear("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 4, 1280, 5120)
            .Read();
        Assert.Equal("sdxl", te2Only.ImpliedArchitecture);
    }

    [Fact]
    public void MixedFamiliesAreReportedAsMixed()
    {
        var model = new SyntheticFile()
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
            .Linear("unet." + K + ".lora_A.weight", "unet." + K + ".lora_B.weight", 4, 640, 640)
            .Read();
        Assert.Equal("mixed", model.Format);
        Assert.Equal(2, model.ModuleCount);
    }

    [Fact]
    public void CompatibilityCheckNamesMissingAndMisshapenLayers()
    {
        var model = new SyntheticFile()
            .Linear(KohyaQ + ".lora_down.weight", KohyaQ + ".lora_up.weight", 4, 640, 640)
            .Linear("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", 4, 320, 320)
            .Read();
        var issues = model.CheckCompatibility(UnetLayout.SdxlBase);
        var issue = Assert.Single(issues);
        Assert.Equal("down_blocks.0.attentions.0.proj_in", issue.ModulePath);
        Assert.Contains("no such layer", issue.Reason, StringComparison.Ordinal);
        // SD 1.5's proj_in is a 1x1 Conv2d, the adapter is Linear.
        var sd15 = model.CheckCompatibility(UnetLayout.Sd15);
        Assert.Contains(sd15, i => i.ModulePath == "down_blocks.0.attentions.0.proj_in" && i.Reason.Contains("Linear", StringComparison.Ordinal));
    }
}
