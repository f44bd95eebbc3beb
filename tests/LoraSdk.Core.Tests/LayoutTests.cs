using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>The layouts enumerated from config.json must equal the real models' Linear/Conv2d weights.</summary>
public sealed class LayoutTests
{
    [Fact]
    public void TinyUnetLayoutEqualsTheWeightsOfTheTinyUnet()
    {
        var layout = UnetLayout.FromUnetConfigJson(File.ReadAllText(TestPaths.TinySdxl("unet/config.json")), "tiny");
        var weights = LayerWeights(TestPaths.TinySdxl("unet/diffusion_pytorch_model.safetensors"));
        // README: "UNet: 148 Linear and 35 Conv2d modules".
        Assert.Equal(148, layout.Modules.Count(m => m.Kind == LoraLayerKind.Linear));
        Assert.Equal(35, layout.Modules.Count(m => m.Kind == LoraLayerKind.Conv2d));
        AssertLayoutMatches(layout.Modules, weights);
    }

    [Theory]
    [InlineData("text_encoder/config.json", "text_encoder/model.safetensors")]
    [InlineData("text_encoder_2/config.json", "text_encoder_2/model.safetensors")]
    public void TinyTextEncoderLayoutsEqualTheirWeights(string config, string weightsFile)
    {
        var layout = TextEncoderLayout.FromConfigJson(File.ReadAllText(TestPaths.TinySdxl(config)));
        var weights = LayerWeights(TestPaths.TinySdxl(weightsFile));
        // Embeddings are nn.Embedding (2-D weights) and not LoRA-able layers of the host.
        foreach (var k in weights.Keys.Where(k => k.Contains("embeddings.")).ToList()) weights.Remove(k);
        AssertLayoutMatches(layout.Modules, weights);
    }

    [Fact]
    public void SdxlLayoutHasTheKnownShapeOfTheSdxlUnet()
    {
        var sdxl = UnetLayout.SdxlBase;
        // 70 transformer blocks (down 2x2 + 2x10, mid 10, up 3x10 + 3x2) with 10 linears each, 11 attentions x proj_in/out.
        Assert.Equal(700, sdxl.Modules.Count(m => m.Path.Contains(".transformer_blocks.")));
        Assert.Equal(22, sdxl.Modules.Count(m => m.Path.EndsWith(".proj_in", StringComparison.Ordinal) || m.Path.EndsWith(".proj_out", StringComparison.Ordinal)));
        Assert.True(sdxl.TryGetModule("down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_k", out var k));
        Assert.Equal((2048L, 1280L), (k.InFeatures, k.OutFeatures));
        Assert.True(sdxl.TryGetModule("up_blocks.0.resnets.0.conv_shortcut", out var sc));
        Assert.Equal((2560L, 1280L), (sc.InFeatures, sc.OutFeatures));
        Assert.True(sdxl.TryGetModule("add_embedding.linear_1", out var add));
        Assert.Equal((2816L, 1280L), (add.InFeatures, add.OutFeatures));
        Assert.False(sdxl.TryGetModule("down_blocks.0.attentions.0.proj_in", out _));
        Assert.True(sdxl.TryGetModule("down_blocks.1.downsamplers.0.conv", out var ds));
        Assert.Equal(new[] { 2, 2 }, ds.Stride);
    }

    [Theory]
    // SDXL: layers_per_block 2, blocks (DownBlock2D, CrossAttnDown, CrossAttnDown) / (CrossAttnUp, CrossAttnUp, UpBlock2D).
    [InlineData("sdxl", "input_blocks.0.0", "conv_in")]
    [InlineData("sdxl", "input_blocks.1.0.in_layers.2", "down_blocks.0.resnets.0.conv1")]
    [InlineData("sdxl", "input_blocks.2.0.out_layers.3", "down_blocks.0.resnets.1.conv2")]
    [InlineData("sdxl", "input_blocks.3.0.op", "down_blocks.0.downsamplers.0.conv")]
    [InlineData("sdxl", "input_blocks.4.0.skip_connection", "down_blocks.1.resnets.0.conv_shortcut")]
    [InlineData("sdxl", "input_blocks.4.0.emb_layers.1", "down_blocks.1.resnets.0.time_emb_proj")]
    [InlineData("sdxl", "input_blocks.4.1.transformer_blocks.1.attn1.to_q", "down_blocks.1.attentions.0.transformer_blocks.1.attn1.to_q")]
    [InlineData("sdxl", "input_blocks.5.1.proj_in", "down_blocks.1.attentions.1.proj_in")]
    [InlineData("sdxl", "input_blocks.6.0.op", "down_blocks.1.downsamplers.0.conv")]
    [InlineData("sdxl", "input_blocks.8.1.transformer_blocks.9.ff.net.2", "down_blocks.2.attentions.1.transformer_blocks.9.ff.net.2")]
    [InlineData("sdxl", "middle_block.0.in_layers.2", "mid_block.resnets.0.conv1")]
    [InlineData("sdxl", "middle_block.1.transformer_blocks.3.attn2.to_out.0", "mid_block.attentions.0.transformer_blocks.3.attn2.to_out.0")]
    [InlineData("sdxl", "middle_block.2.emb_layers.1", "mid_block.resnets.1.time_emb_proj")]
    [InlineData("sdxl", "output_blocks.0.1.proj_out", "up_blocks.0.attentions.0.proj_out")]
    [InlineData("sdxl", "output_blocks.2.2.conv", "up_blocks.0.upsamplers.0.conv")]
    [InlineData("sdxl", "output_blocks.5.1.transformer_blocks.1.ff.net.0.proj", "up_blocks.1.attentions.2.transformer_blocks.1.ff.net.0.proj")]
    [InlineData("sdxl", "output_blocks.5.2.conv", "up_blocks.1.upsamplers.0.conv")]
    [InlineData("sdxl", "output_blocks.8.0.skip_connection", "up_blocks.2.resnets.2.conv_shortcut")]
    [InlineData("sdxl", "time_embed.0", "time_embedding.linear_1")]
    [InlineData("sdxl", "time_embed.2", "time_embedding.linear_2")]
    [InlineData("sdxl", "label_emb.0.0", "add_embedding.linear_1")]
    [InlineData("sdxl", "label_emb.0.2", "add_embedding.linear_2")]
    [InlineData("sdxl", "out.2", "conv_out")]
    // SD 1.5: attentions in the first three down blocks, UpBlock2D first (its upsampler sits at sub-index 1).
    [InlineData("sd15", "input_blocks.1.1.proj_in", "down_blocks.0.attentions.0.proj_in")]
    [InlineData("sd15", "input_blocks.11.0.out_layers.3", "down_blocks.3.resnets.1.conv2")]
    [InlineData("sd15", "output_blocks.2.1.conv", "up_blocks.0.upsamplers.0.conv")]
    [InlineData("sd15", "output_blocks.8.2.conv", "up_blocks.2.upsamplers.0.conv")]
    [InlineData("sd15", "output_blocks.11.1.transformer_blocks.0.attn2.to_k", "up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_k")]
    public void SgmNamesMapToDiffusersPaths(string layoutName, string sgm, string diffusers)
    {
        var layout = UnetLayout.BuiltIn.Single(l => l.Name == layoutName);
        Assert.True(layout.TryGetModuleBySgmPath(sgm, out var m), $"{sgm} not in {layoutName}");
        Assert.Equal(diffusers, m.Path);
    }

    [Fact]
    public void Sd15UsesConvProjectionsAnd768WideCrossAttention()
    {
        Assert.True(UnetLayout.Sd15.TryGetModule("down_blocks.0.attentions.1.proj_out", out var p));
        Assert.Equal(LoraLayerKind.Conv2d, p.Kind);
        Assert.Equal(new[] { 1, 1 }, p.KernelSize);
        Assert.True(UnetLayout.Sd15.TryGetModule("up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_v", out var v));
        Assert.Equal(768, v.InFeatures);
        Assert.True(UnetLayout.Sd2.TryGetModule("up_blocks.3.attentions.2.proj_in", out var sd2Proj));
        Assert.Equal(LoraLayerKind.Linear, sd2Proj.Kind);
    }

    [Theory]
    [InlineData("{}", "down_block_types")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{\"down_block_types\": [\"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\"], \"block_out_channels\": [32, 64]}", "same non-zero length")]
    [InlineData("{\"down_block_types\": [\"Weird2D\"], \"up_block_types\": [\"UpBlock2D\"], \"block_out_channels\": [32], \"layers_per_block\": 1, \"cross_attention_dim\": 8}", "Weird2D")]
    [InlineData("{\"down_block_types\": [\"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\"], \"block_out_channels\": [-3], \"layers_per_block\": 1, \"cross_attention_dim\": 8}", "non-negative")]
    [InlineData("{not json", "UNet config.json")]
    public void BadUnetConfigsRaiseFormatErrors(string json, string expected)
    {
        var e = Assert.ThrowsAny<LoraSdkFormatException>(() => UnetLayout.FromUnetConfigJson(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltInTextEncodersHaveTheirLayerCounts()
    {
        Assert.Equal(12 * 6, TextEncoderLayout.ClipL.Modules.Count);
        Assert.Equal(32 * 6 + 1, TextEncoderLayout.ClipG.Modules.Count);
        Assert.True(TextEncoderLayout.ClipG.TryGetModule("encoder.layers.31.mlp.fc1", out var fc1));
        Assert.Equal((1280L, 5120L), (fc1.InFeatures, fc1.OutFeatures));
        Assert.False(TextEncoderLayout.ClipL.TryGetModule("encoder.layers.12.mlp.fc1", out _));
    }

    /// <summary>module path → weight shape of every 2-D / 4-D ".weight" in a model file.</summary>
    private static Dictionary<string, long[]> LayerWeights(string file)
    {
        var header = SafetensorsHeader.Read(file);
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in header.Tensors)
        {
            if (!t.Name.EndsWith(".weight", StringComparison.Ordinal) || (t.Shape.Length != 2 && t.Shape.Length != 4)) continue;
            string path = t.Name.Substring(0, t.Name.Length - ".weight".Length);
            if (path.StartsWith("text_model.", StringComparison.Ordinal)) path = path.Substring("text_model.".Length);
            result[path] = t.Shape;
        }
        return result;
    }

    private static void AssertLayoutMatches(IReadOnlyList<BaseModuleInfo> modules, Dictionary<string, long[]> weights)
    {
        Assert.Equal(weights.Keys.OrderBy(k => k, StringComparer.Ordinal), modules.Select(m => m.Path).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var m in modules)
        {
            var w = weights[m.Path];
            var expected = m.Kind == LoraLayerKind.Linear
                ? new[] { m.OutFeatures, m.InFeatures }
                : new[] { m.OutFeatures, m.InFeatures, m.KernelSize![0], m.KernelSize[1] };
            Assert.True(expected.SequenceEqual(w), $"{m.Path}: layout {string.Join("x", expected)}, weights {string.Join("x", w)}");
        }
    }
}
