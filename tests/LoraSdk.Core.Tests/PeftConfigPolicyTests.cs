using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace LoraSdk.Core.Tests;

/// <summary>
/// The PEFT <c>LoraConfig</c> field policy (<see cref="PeftConfigPolicy"/>), PEFT's target selection
/// (<see cref="PeftTargetModules"/>) and reading a PEFT adapter's weights file with its config.
/// </summary>
public class PeftConfigPolicyTests
{
    private static string SeedFlows => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures-seed-flows");

    private static LoraAdapterConfig Config(string json) => LoraAdapterConfig.FromJson(json, "adapter_config.json", new List<string>());

    [Fact]
    public void EveryFieldPeftWritesHasATreatment()
    {
        var defaults = LoraAdapterConfig.Defaults().Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var missing = defaults.Where(k => !PeftConfigPolicy.Fields.ContainsKey(k)).ToList();
        Assert.Empty(missing);
        Assert.Equal(PeftFieldTreatment.Honoured, PeftConfigPolicy.Fields["use_dora"]);
        Assert.Equal(PeftFieldTreatment.RefusedUnlessDefault, PeftConfigPolicy.Fields["modules_to_save"]);
        Assert.Equal(PeftFieldTreatment.Honoured, PeftConfigPolicy.Fields["layers_to_transform"]);
        Assert.Equal(PeftFieldTreatment.NoInferenceEffect, PeftConfigPolicy.Fields["lora_dropout"]);
    }

    [Fact]
    public void TheConfigsPeftWroteForTheGuidesAdaptersHaveNoFindings()
    {
        var configs = Directory.GetFiles(SeedFlows, "adapter_config.json", SearchOption.AllDirectories);
        Assert.Equal(4, configs.Length);
        foreach (var path in configs) Assert.Empty(PeftConfigPolicy.Check(Config(File.ReadAllText(path))));
    }

    [Fact]
    public void RefusalsAndWarningsNameTheFieldAndItsValue()
    {
        var findings = PeftConfigPolicy.Check(Config("{\"r\": 4, \"use_dora\": true, \"bias\": \"all\", \"fan_in_fan_out\": true, \"modules_to_save\": [\"conv_out\"], \"use_qalora\": true}"));
        Assert.Equal(new[] { "bias", "fan_in_fan_out", "modules_to_save", "use_qalora" }, findings.Select(f => f.Field));
        Assert.Equal(new[] { true, false, true, true }, findings.Select(f => f.IsRefusal));
        Assert.StartsWith("use_qalora = true: ", findings.Single(f => f.Field == "use_qalora").Message);
        Assert.Equal("[\"conv_out\"]", PeftConfigPolicy.Describe(findings.Single(f => f.Field == "modules_to_save").Value));
        Assert.Empty(PeftConfigPolicy.Check(Config("{\"r\": 4, \"modules_to_save\": [], \"layer_replication\": null, \"init_lora_weights\": \"gaussian\"}")));
    }

    [Theory]
    [InlineData("{}", true)]
    [InlineData("{\"init_lora_weights\": true}", true)]
    [InlineData("{\"init_lora_weights\": \"gaussian\"}", true)]
    [InlineData("{\"init_lora_weights\": \"orthogonal\"}", true)]
    [InlineData("{\"init_lora_weights\": false}", false)]
    public void TargetedLayersWithoutWeightsAreNoOpsUnlessPeftInitialisesThemAtRandom(string json, bool noOp) =>
        Assert.Equal(noOp, PeftConfigPolicy.MissingLayersAreNoOps(Config(json)));

    [Theory]
    [InlineData("{\"target_modules\": [\"to_q\"]}", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", true, true)]
    [InlineData("{\"target_modules\": [\"to_q\"]}", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_qk", true, false)]
    [InlineData("{\"target_modules\": [\"to_out.0\"]}", "mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0", true, true)]
    [InlineData("{\"target_modules\": [\"attn2.to_k\"]}", "mid_block.attentions.0.transformer_blocks.0.attn1.to_k", true, false)]
    [InlineData("{\"target_modules\": \".*attn1\\\\.to_(q|k)\"}", "mid_block.attentions.0.transformer_blocks.0.attn1.to_k", true, true)]
    [InlineData("{\"target_modules\": \"attn1\\\\.to_k\"}", "mid_block.attentions.0.transformer_blocks.0.attn1.to_k", true, false)]
    [InlineData("{\"target_modules\": \".*(?P<name>to_k)\"}", "mid_block.attentions.0.transformer_blocks.0.attn1.to_k", true, true)]
    [InlineData("{\"target_modules\": \"ALL-LINEAR\"}", "conv_in", false, false)]
    [InlineData("{\"target_modules\": \"all-linear\"}", "time_embedding.linear_1", true, true)]
    [InlineData("{\"target_modules\": [\"to_k\"], \"exclude_modules\": [\"attn1.to_k\"]}", "mid_block.attentions.0.transformer_blocks.0.attn1.to_k", true, false)]
    [InlineData("{\"target_modules\": [\"to_k\"], \"exclude_modules\": \".*blocks\\\\.1\\\\..*\"}", "mid_block.attentions.0.transformer_blocks.1.attn1.to_k", true, false)]
    [InlineData("{\"target_modules\": [\"q_proj\"], \"layers_to_transform\": [2, 3]}", "encoder.layers.3.self_attn.q_proj", true, true)]
    [InlineData("{\"target_modules\": [\"q_proj\"], \"layers_to_transform\": 1}", "encoder.layers.3.self_attn.q_proj", true, false)]
    [InlineData("{\"target_modules\": [\"to_k\"], \"layers_to_transform\": [0], \"layers_pattern\": \"transformer_blocks\"}", "down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_k", true, true)]
    [InlineData("{\"target_modules\": [\"to_k\"], \"layers_to_transform\": [1], \"layers_pattern\": \"transformer_blocks\"}", "down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_k", true, false)]
    [InlineData("{\"target_modules\": [\"to_k\"], \"layers_to_transform\": [1]}", "down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_k", true, true)]
    public void SelectsModulesAsPeftsCheckTargetModuleExists(string json, string module, bool isLinear, bool selected) =>
        Assert.Equal(selected, PeftTargetModules.Selects(Config(json), new[] { module }, isLinear));

    [Fact]
    public void AConfigWithoutTargetModulesSelectsNothingKnown()
    {
        Assert.Null(PeftTargetModules.Selects(Config("{\"r\": 4, \"target_modules\": null}"), new[] { "conv_in" }, false));
        Assert.Throws<LoraSdkFormatException>(() => PeftTargetModules.Selects(Config("{\"target_modules\": \"(unclosed\"}"), new[] { "conv_in" }, false));
    }

    [Fact]
    public void APeftAdaptersWeightsFileIsReadWithTheConfigBesideIt()
    {
        string weights = Path.Combine(SeedFlows, "peft-models-ad", "ikea_peft_model", "ikea", "adapter_model.safetensors");
        var model = LoraFileModel.Read(weights);
        Assert.Equal(96, model.ModuleCount);
        Assert.All(model.Components["unet"].Values, m =>
        {
            Assert.Equal(8, m.Alpha);                      // adapter_config.json: lora_alpha 8
            Assert.Equal(LoraAlphaSource.Metadata, m.AlphaSource);
            Assert.Equal(2.0, m.Scaling);
        });

        using var temp = TestPaths.TempDir();
        string alone = Path.Combine(temp.Path, "adapter_model.safetensors");
        File.Copy(weights, alone);
        Assert.All(LoraFileModel.Read(alone).Components["unet"].Values, m => Assert.Equal(LoraAlphaSource.RankDefault, m.AlphaSource));
    }
}
