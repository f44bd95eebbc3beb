using LoraSdk.Core;
using System;
using System.Collections.Generic;
using LoraSdk.Adapters;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>diffusers' block-scale expansion rules and messages, Python repr, and the weights tree.</summary>
public sealed class LoraScaleRulesTests
{
    private static readonly UNetBlockLayout Sdxl = new UNetBlockLayout(new[] { 1, 2 }, new[] { 0, 1 }, 2);

    private static readonly string[] SdxlKeys =
    {
        "down_blocks.1.attentions.0.proj_in.weight", "down_blocks.1.attentions.1.proj_in.weight",
        "down_blocks.2.attentions.0.proj_in.weight", "down_blocks.2.attentions.1.proj_in.weight",
        "mid_block.attentions.0.proj_in.weight",
        "up_blocks.0.attentions.0.proj_in.weight", "up_blocks.0.attentions.1.proj_in.weight", "up_blocks.0.attentions.2.proj_in.weight",
        "up_blocks.1.attentions.0.proj_in.weight", "up_blocks.1.attentions.1.proj_in.weight", "up_blocks.1.attentions.2.proj_in.weight",
    };

    private static LoraModuleWeightRule Expand(string json) =>
        LoraBlockScaleExpansion.Expand(AdapterWeight.Parse(json), Sdxl, layer => Array.Exists(SdxlKeys, k => k.Contains(layer, StringComparison.Ordinal)));

    [Fact]
    public void DocsExampleExpandsLikeDiffusers()
    {
        var rule = Expand("""{"down": 2, "mid": 3, "up": {"block_0": 4, "block_1": [5, 6, 7]}}""");
        Assert.Equal(2, rule.WeightFor("down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_q"));
        Assert.Equal(2, rule.WeightFor("down_blocks.2.attentions.0.proj_out"));
        Assert.Equal(3, rule.WeightFor("mid_block.attentions.0.transformer_blocks.0.ff.net.2"));
        Assert.Equal(4, rule.WeightFor("up_blocks.0.attentions.2.proj_in"));
        Assert.Equal(6, rule.WeightFor("up_blocks.1.attentions.1.transformer_blocks.1.attn2.to_k"));
        // resnets take the attention with their index; mid resnets and blocks without attentions get 1.0
        Assert.Equal(7, rule.WeightFor("up_blocks.1.resnets.2.conv1"));
        Assert.Equal(1.0, rule.WeightFor("mid_block.resnets.0.conv1"));
        Assert.Equal(1.0, rule.WeightFor("down_blocks.0.resnets.0.conv1"));
        Assert.Equal(1.0, rule.WeightFor("conv_in")); // diffusers raises IndexError for short paths
    }

    [Fact]
    public void MissingPartsDefaultToOne()
    {
        var rule = Expand("""{"up": {"block_1": 0.5}}""");
        Assert.Equal(1.0, rule.WeightFor("down_blocks.1.attentions.0.proj_in"));
        Assert.Equal(1.0, rule.WeightFor("up_blocks.0.attentions.0.proj_in"));
        Assert.Equal(0.5, rule.WeightFor("up_blocks.1.attentions.2.proj_in"));
        Assert.Equal(1.0, rule.WeightFor("mid_block.attentions.0.proj_in"));
    }

    [Theory]
    [InlineData("""{"mid": [0.1, 0.2]}""", "Expected 1 scales for mid, got 2.")]
    [InlineData("""{"down": {"block_1": [0.1, 0.2, 0.3]}}""", "Expected 2 scales for down.block_1, got 3.")]
    [InlineData("""{"up": {"block_0": [0.1, 0.2]}}""", "Expected 3 scales for up.block_0, got 2.")]
    public void WrongListLengthsUseDiffusersMessages(string json, string message)
    {
        var e = Assert.Throws<LoraException>(() => Expand(json));
        Assert.Equal(LoraErrorKind.BlockScaleLength, e.Kind);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ALayerMissingFromTheModelUsesDiffusersMessage()
    {
        var layout = new UNetBlockLayout(new[] { 1, 7 }, new[] { 0 }, 2);
        var e = Assert.Throws<LoraException>(() => LoraBlockScaleExpansion.Expand(AdapterWeight.Parse("""{"down": 0.5}"""), layout,
            layer => Array.Exists(SdxlKeys, k => k.Contains(layer, StringComparison.Ordinal))));
        Assert.Equal("Can't set lora scale for layer down.block_7.0. It either doesn't exist in this unet or it has no attentions.", e.Message);
    }

    [Fact]
    public void ListOfOneRepeats()
    {
        var rule = Expand("""{"down": {"block_2": [0.25]}, "mid": [0.75]}""");
        Assert.Equal(0.25, rule.WeightFor("down_blocks.2.attentions.1.proj_in"));
        Assert.Equal(0.75, rule.WeightFor("mid_block.attentions.0.proj_in"));
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.7, "0.7")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(123456.789, "123456.789")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    public void PythonFloatRepr(double value, string expected) => Assert.Equal(expected, PythonRepr.Float(value));

    [Fact]
    public void PythonJsonMatchesJsonDumpsIndentSortKeys()
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["r"] = 4L, ["lora_alpha"] = 8.0, ["target_modules"] = new List<object?> { "to_q", "é" }, ["empty"] = new SortedDictionary<string, object?>(),
            ["none"] = null, ["flag"] = true, ["list0"] = new List<object?>(),
        };
        Assert.Equal("{\n  \"empty\": {},\n  \"flag\": true,\n  \"list0\": [],\n  \"lora_alpha\": 8.0,\n  \"none\": null,\n  \"r\": 4,\n  \"target_modules\": [\n    \"to_q\",\n    \"\\u00e9\"\n  ]\n}",
            PythonJsonWriter.Dumps(d));
    }

    [Fact]
    public void TargetModulesAreCondensedLikePeftForLongLists()
    {
        var targets = new List<string>();
        var others = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            targets.Add($"down_blocks.1.attentions.0.transformer_blocks.{i}.attn1.to_q");
            targets.Add($"down_blocks.1.attentions.0.transformer_blocks.{i}.attn1.to_v");
            others.Add($"down_blocks.1.attentions.0.transformer_blocks.{i}.attn1.to_k");
        }
        Assert.Equal(new[] { "to_q", "to_v" }, TargetModuleCondenser.Condense(targets, others));
        Assert.Equal(new[] { "a.x", "b.x" }, TargetModuleCondenser.Condense(new[] { "a.x", "b.x" }, others)); // < 20: unchanged
    }
}
