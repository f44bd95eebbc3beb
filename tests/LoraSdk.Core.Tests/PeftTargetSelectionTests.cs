using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>
/// What PEFT does with a PEFT adapter folder's weights on a model (<see cref="PeftTargetSelection"/>): which modules
/// load, which it ignores, which targeted layers stay uncovered, and the refusals and warnings the engine and the build
/// task both report, in PEFT's words where PEFT has words.
/// </summary>
public class PeftTargetSelectionTests
{
    private const string ConfigFile = "adapter_config.json";
    private const string Q = "mid_block.attentions.0.transformer_blocks.0.attn1.to_q";
    private const string K = "mid_block.attentions.0.transformer_blocks.0.attn1.to_k";
    private const string V = "mid_block.attentions.0.transformer_blocks.0.attn1.to_v";
    private const string ProjIn = "mid_block.attentions.0.proj_in";
    private const string Conv = "mid_block.resnets.0.conv1";

    private static LoraAdapterConfig Config(string json) => LoraAdapterConfig.FromJson(json, ConfigFile, new List<string>());

    /// <summary>A LoRA module of rank <paramref name="rank"/> on a Linear layer of 32 inputs (lora_A [rank, 32]).</summary>
    private static PeftWeightModule Lora(string path, int rank = 4, bool dora = false, bool isLinear = true, string? layerPath = "") =>
        new PeftWeightModule(path, new[] { path }, isLinear, rank, isLinear ? new long[] { rank, 32 } : new long[] { rank, 32, 3, 3 }, dora,
            layerPath == "" ? path : layerPath);

    private static PeftModelLayer Layer(string path, bool isLinear = true) => new PeftModelLayer(path, new[] { path }, isLinear);

    private static readonly PeftModelLayer[] Model = { Layer(ProjIn), Layer(Q), Layer(K), Layer(V), Layer(Conv, isLinear: false) };

    private static PeftTargetSelection Select(string json, IReadOnlyList<PeftWeightModule> modules, IReadOnlyList<PeftModelLayer>? layers = null) =>
        PeftTargetSelection.Select(Config(json), ConfigFile, "unet", modules, layers ?? Model);

    [Fact]
    public void TheFoldersPeftWroteLoadEveryModuleOnTheirModelWithoutFindings()
    {
        var layout = UnetLayout.FromUnetConfigJson(File.ReadAllText(TestPaths.TinySdxl("unet/config.json")), "tiny");
        var layers = layout.Modules.Select(m => new PeftModelLayer(m.Path, new[] { m.Path }, m.Kind != LoraLayerKind.Conv2d)).ToList();
        string seedFlows = Path.Combine(TestPaths.RepoRoot, "tests", "fixtures-seed-flows");
        var folders = Directory.GetFiles(seedFlows, "adapter_model.safetensors", SearchOption.AllDirectories);
        Assert.Equal(4, folders.Length);
        foreach (var weights in folders)
        {
            var config = Config(File.ReadAllText(Path.Combine(Path.GetDirectoryName(weights)!, ConfigFile)));
            var modules = LoraFileModel.Read(weights).Components["unet"].Values
                .Select(m => new PeftWeightModule(m.ModulePath, new[] { m.ModulePath }, m.Kind != LoraLayerKind.Conv2d, m.Rank, m.AShape, m.UsesDora, m.ModulePath))
                .ToList();
            var selection = PeftTargetSelection.Select(config, ConfigFile, "unet", modules, layers);
            Assert.Empty(selection.Findings);
            Assert.Equal(modules, selection.Kept);
            Assert.Empty(selection.Ignored);
            Assert.Empty(selection.Uncovered);
            // init_lora_weights is false in these configs: a targeted layer left out would have been refused.
            Assert.False(PeftConfigPolicy.MissingLayersAreNoOps(config));
        }
    }

    [Fact]
    public void ModulesTheConfigDoesNotSelectAreIgnoredWithAWarningNamingThem()
    {
        var q = Lora(Q);
        var k = Lora(K);
        var v = Lora(V);
        var selection = Select("{\"r\": 4, \"target_modules\": [\"to_q\", \"to_k\"]}", new[] { q, k, v }, new[] { Layer(Q), Layer(K), Layer(V) });
        Assert.Equal(new[] { q, k }, selection.Kept);
        Assert.Equal(new[] { v }, selection.Ignored);
        Assert.Empty(selection.Uncovered);
        var warning = Assert.Single(selection.Findings);
        Assert.Equal(PeftTargetFindingKind.ModulesNotSelected, warning.Kind);
        Assert.False(warning.IsRefusal);
        Assert.Null(selection.FirstRefusal);
        Assert.Equal($"1 module(s) in the weights are not selected by adapter_config.json (target_modules [\"to_q\", \"to_k\"]); PEFT ignores their keys, " +
                     $"so they were not loaded: {V}", warning.Message);
    }

    [Fact]
    public void AConfigWithoutTargetModulesLoadsEveryModuleAndLooksForNoUncoveredLayer()
    {
        var q = Lora(Q);
        var selection = Select("{\"r\": 4, \"target_modules\": null}", new[] { q });
        Assert.Equal(new[] { q }, selection.Kept);
        Assert.Empty(selection.Uncovered);     // the model's other layers are not "targeted"
        var warning = Assert.Single(selection.Findings);
        Assert.Equal(PeftTargetFindingKind.NoTargetModules, warning.Kind);
        Assert.False(warning.IsRefusal);
        Assert.Equal("adapter_config.json has no target_modules; every module in the weights was loaded.", warning.Message);
    }

    [Fact]
    public void ARankThatIsNotTheConfigsIsPeftsSizeMismatch()
    {
        var selection = Select("{\"r\": 8, \"target_modules\": [\"to_q\"]}", new[] { Lora(Q, rank: 4) }, new[] { Layer(Q) });
        var refusal = Assert.Single(selection.Findings);
        Assert.Same(refusal, selection.FirstRefusal);
        Assert.Equal(PeftTargetFindingKind.RankMismatch, refusal.Kind);
        Assert.True(refusal.IsRefusal);
        Assert.Equal(Q, refusal.ModulePath);
        Assert.Equal($"size mismatch for base_model.model.{Q}.lora_A.weight: copying a param with shape [4, 32] from checkpoint, the shape in current " +
                     $"model is [8, 32] (adapter_config.json gives '{Q}' rank 8).", refusal.Message);

        // rank_pattern gives the module its rank (PEFT's pattern match on the module's names); a module without lora_A is not rank-checked.
        Assert.Empty(Select("{\"r\": 8, \"rank_pattern\": {\"attn1.to_q\": 4}, \"target_modules\": [\"to_q\"]}", new[] { Lora(Q, rank: 4) }, new[] { Layer(Q) }).Findings);
        var loha = new PeftWeightModule(Q, new[] { Q }, true, 4, null, false, Q);
        Assert.Empty(Select("{\"r\": 8, \"target_modules\": [\"to_q\"]}", new[] { loha }, new[] { Layer(Q) }).Findings);
    }

    [Theory]
    [InlineData(true, false, "adapter_config.json has use_dora = true, but the weights of '" + Q + "' have no lora_magnitude_vector; the config and the weights disagree on DoRA.")]
    [InlineData(false, true, "adapter_config.json has use_dora = false, but the weights of '" + Q + "' have a lora_magnitude_vector; the config and the weights disagree on DoRA.")]
    public void UseDoraAndTheWeightsMustAgree(bool useDora, bool magnitude, string message)
    {
        string json = $"{{\"r\": 4, \"use_dora\": {(useDora ? "true" : "false")}, \"target_modules\": [\"to_q\"]}}";
        var refusal = Assert.Single(Select(json, new[] { Lora(Q, dora: magnitude) }, new[] { Layer(Q) }).Findings);
        Assert.Equal(PeftTargetFindingKind.DoraMismatch, refusal.Kind);
        Assert.True(refusal.IsRefusal);
        Assert.Equal(Q, refusal.ModulePath);
        Assert.Equal(message, refusal.Message);
        Assert.Empty(Select("{\"r\": 4, \"use_dora\": true, \"target_modules\": [\"to_q\"]}", new[] { Lora(Q, dora: true) }, new[] { Layer(Q) }).Findings);
    }

    [Fact]
    public void RefusalsComeInTheOrderOfTheModulesSoTheFirstIsWhatLoadingFailsWith()
    {
        var selection = Select("{\"r\": 4, \"use_dora\": true, \"target_modules\": [\"to_q\", \"to_k\"]}",
            new[] { Lora(K, rank: 2, dora: true), Lora(Q, rank: 8) }, new[] { Layer(Q), Layer(K) });
        Assert.Equal(new[] { (PeftTargetFindingKind.RankMismatch, K), (PeftTargetFindingKind.RankMismatch, Q), (PeftTargetFindingKind.DoraMismatch, Q) },
            selection.Findings.Select(f => (f.Kind, f.ModulePath!)));
        Assert.Equal(K, selection.FirstRefusal!.ModulePath);
        Assert.Equal(2, selection.Kept.Count);
    }

    [Fact]
    public void AConfigThatSelectsNothingIsPeftsTargetModulesNotFound()
    {
        var selection = Select("{\"r\": 4, \"target_modules\": [\"to_q\"], \"layers_to_transform\": 1, \"layers_pattern\": \"transformer_blocks\"}",
            new[] { Lora(Q) });
        Assert.Empty(selection.Kept);
        Assert.Equal(new[] { PeftTargetFindingKind.ModulesNotSelected, PeftTargetFindingKind.TargetModulesNotFound }, selection.Findings.Select(f => f.Kind));
        var refusal = selection.FirstRefusal!;
        Assert.Null(refusal.ModulePath);
        Assert.Equal("Target modules [\"to_q\"] not found in the base model. Please check the target modules and try again. " +
                     "Note: You specified 'layers_to_transform': 1. You also specified 'layers_pattern': \"transformer_blocks\".", refusal.Message);
        Assert.Equal("Target modules [\"nope\"] not found in the base model. Please check the target modules and try again.",
            Select("{\"r\": 4, \"target_modules\": [\"nope\"]}", new[] { Lora(Q) }).FirstRefusal!.Message);
    }

    [Fact]
    public void TargetedLayersWithoutWeightsAreRefusedWhenPeftWouldLeaveThemRandom()
    {
        var selection = Select("{\"r\": 4, \"init_lora_weights\": false, \"target_modules\": [\"to_q\", \"to_k\", \"to_v\", \"proj_in\"]}", new[] { Lora(Q) });
        Assert.Equal(new[] { ProjIn, K, V }, selection.Uncovered);     // the model's order
        var refusal = Assert.Single(selection.Findings);
        Assert.Equal(PeftTargetFindingKind.UncoveredLayersRandom, refusal.Kind);
        Assert.True(refusal.IsRefusal);
        Assert.Equal(ProjIn, refusal.ModulePath);
        Assert.Equal($"adapter_config.json targets 3 unet layer(s) that the weights do not cover ({ProjIn}, {K}, {V}); PEFT would give them randomly " +
                     "initialised LoRA weights (init_lora_weights = false), so the adapter is refused.", refusal.Message);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("\"gaussian\"")]
    [InlineData("null")]
    public void TargetedLayersWithoutWeightsGetAZeroDeltaAndAWarningOtherwise(string init)
    {
        var q = Lora(Q);
        var selection = Select($"{{\"r\": 4, \"init_lora_weights\": {init}, \"target_modules\": [\"to_q\", \"to_k\"]}}", new[] { q });
        Assert.Equal(new[] { q }, selection.Kept);
        Assert.Equal(new[] { K }, selection.Uncovered);
        var warning = Assert.Single(selection.Findings);
        Assert.Equal(PeftTargetFindingKind.UncoveredLayersZeroDelta, warning.Kind);
        Assert.False(warning.IsRefusal);
        Assert.Equal($"adapter_config.json targets 1 unet layer(s) that the weights do not cover ({K}); PEFT warns \"Found missing adapter keys\" " +
                     "and gives them a zero delta, so they were left without the adapter.", warning.Message);
    }

    [Fact]
    public void WeightsThatCoverNoneOfTheTargetsLeaveNothingToLoad()
    {
        // to_v is not targeted (ignored); to_q and to_k are targeted and uncovered: a zero delta everywhere.
        var selection = Select("{\"r\": 4, \"target_modules\": [\"to_q\", \"to_k\"]}", new[] { Lora(V) });
        Assert.Empty(selection.Kept);
        Assert.Equal(new[] { Q, K }, selection.Uncovered);
        Assert.Equal(new[] { PeftTargetFindingKind.ModulesNotSelected, PeftTargetFindingKind.NothingCovered }, selection.Findings.Select(f => f.Kind));
        Assert.Equal("the weights cover none of the 2 unet layer(s) adapter_config.json targets; there is nothing to load.", selection.FirstRefusal!.Message);
    }

    [Fact]
    public void WithoutTheModelsLayersNoLayerIsUncovered()
    {
        var none = PeftTargetSelection.Select(Config("{\"r\": 4, \"init_lora_weights\": false, \"target_modules\": [\"to_q\", \"to_k\"]}"), ConfigFile, "unet",
            new[] { Lora(Q) }, null);
        Assert.Empty(none.Uncovered);
        Assert.Empty(none.Findings);
        var nothing = PeftTargetSelection.Select(Config("{\"r\": 4, \"target_modules\": [\"to_k\"]}"), ConfigFile, "unet", new[] { Lora(Q) }, null);
        Assert.Equal(PeftTargetFindingKind.TargetModulesNotFound, nothing.FirstRefusal!.Kind);
    }

    [Fact]
    public void AModuleCoversTheLayerItLandsOnAndIsSelectedByAnyOfItsNames()
    {
        // The weights name the layer "text_model.encoder.layers.0.self_attn.q_proj"; the model calls it without text_model.
        const string layer = "encoder.layers.0.self_attn.q_proj";
        var module = new PeftWeightModule("text_model." + layer, new[] { "text_model." + layer }, true, 4, new long[] { 4, 32 }, false, layer);
        var selection = PeftTargetSelection.Select(Config("{\"r\": 4, \"target_modules\": \"text_model\\\\.encoder\\\\..*q_proj\"}"), ConfigFile, "text_encoder",
            new[] { module }, new[] { new PeftModelLayer(layer, new[] { layer, "text_model." + layer }, true) });
        Assert.Equal(new[] { module }, selection.Kept);
        Assert.Empty(selection.Uncovered);
        Assert.Empty(selection.Findings);

        // A module on no layer of the model covers nothing.
        var lost = Lora(Q, layerPath: null);
        var uncovered = Select("{\"r\": 4, \"target_modules\": [\"to_q\"]}", new[] { lost }, new[] { Layer(Q) });
        Assert.Equal(new[] { Q }, uncovered.Uncovered);
        Assert.Equal(PeftTargetFindingKind.UncoveredLayersZeroDelta, Assert.Single(uncovered.Findings).Kind);
    }

    [Fact]
    public void AllLinearSelectsByTheKindOfLayer()
    {
        var conv = Lora(Conv, isLinear: false);
        var q = Lora(Q);
        var selection = Select("{\"r\": 4, \"init_lora_weights\": true, \"target_modules\": \"all-linear\"}", new[] { q, conv });
        Assert.Equal(new[] { q }, selection.Kept);
        Assert.Equal(new[] { conv }, selection.Ignored);
        Assert.Equal(new[] { ProjIn, K, V }, selection.Uncovered);     // Linear layers only
    }

    [Fact]
    public void LongListsNameTheFirstTenModules()
    {
        var modules = Enumerable.Range(0, 12).Select(i => Lora($"down_blocks.{i}.ff.net.2")).ToList();
        var warning = Select("{\"r\": 4, \"target_modules\": [\"to_q\"]}", modules.Append(Lora(Q)).ToList(), new[] { Layer(Q) }).Findings.Single();
        Assert.Equal(PeftTargetFindingKind.ModulesNotSelected, warning.Kind);
        Assert.StartsWith("12 module(s) in the weights are not selected", warning.Message);
        Assert.EndsWith(": " + string.Join(", ", modules.Take(10).Select(m => m.Path)) + ", ...", warning.Message);
    }

    [Fact]
    public void AFieldOfTheWrongTypeFailsAsAFormatError() =>
        Assert.Throws<LoraSdkFormatException>(() => Select("{\"r\": 4, \"target_modules\": \"(unclosed\"}", new[] { Lora(Q) }));
}
