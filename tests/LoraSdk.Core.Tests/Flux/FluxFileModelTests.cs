using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LoraSdk.Core.Tests.Flux;

/// <summary>
/// The Flux fixture LoRAs (tests/fixtures-flux, written by diffusers/PEFT) read by the formats core: every module,
/// rank, alpha, scaling and lora_A/lora_B shape equals what PEFT injected (<c>goldens.json → injected_modules</c>),
/// the kohya files come out as diffusers' conversion makes them (fused q/k/v and linear1 split, alpha folded, non-block
/// layers dropped), and the file diffusers refuses is refused with a reason.
/// </summary>
public sealed class FluxFileModelTests
{
    private static readonly Lazy<JsonValue> Goldens = new Lazy<JsonValue>(() =>
        JsonValue.Parse(File.ReadAllText(Path.Combine(TestPaths.FixturesFlux, "goldens.json"))));

    private static readonly Lazy<LoraFileModelOptions> Tiny = new Lazy<LoraFileModelOptions>(() =>
        LoraFileModelOptions.ForTransformerConfigJson(File.ReadAllText(Path.Combine(TestPaths.FixturesFlux, "tiny-flux", "transformer", "config.json")), "tiny-flux"));

    public static IEnumerable<object[]> Files() => new[]
    {
        // file tag, components, format
        new object[] { "flux_lora_a", "transformer", "peft" },
        new object[] { "flux_lora_b", "text_encoder,transformer", "peft" },
        new object[] { "flux_lora_a_kohya", "transformer", "kohya_flux" },
        new object[] { "flux_lora_a_kohya_subset", "transformer", "peft" },
        new object[] { "flux_lora_kohya_extras", "transformer", "kohya_flux" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void ModulesRanksAlphasAndShapesEqualWhatPeftInjected(string file, string componentList, string format)
    {
        var model = LoraFileModel.Read(TestPaths.FluxLora(file), Tiny.Value);
        var golden = Goldens.Value["injected_modules"]![file]!;
        var components = componentList.Split(',');
        Assert.Equal(format, model.Format);
        Assert.Empty(model.Unmapped);
        Assert.Empty(model.Unsupported);
        Assert.Empty(model.InvalidModules);
        Assert.Equal(components, model.Components.Keys);
        Assert.Equal("tiny-flux", model.ImpliedArchitecture);
        Assert.Empty(model.CheckCompatibility(null, TextEncoderLayout.FromConfigJson(File.ReadAllText(
            Path.Combine(TestPaths.FixturesFlux, "tiny-flux", "text_encoder", "config.json"))), null, Tiny.Value.Transformer));
        foreach (var component in components)
        {
            var expected = golden[component]!;
            var actual = model.Components[component];
            Assert.Equal(expected["num_modules"]!.AsInt64(), actual.Count);
            var modules = expected["modules"]!.Properties;
            Assert.Equal(modules.Select(p => p.Key).OrderBy(p => p, StringComparer.Ordinal), actual.Keys);
            foreach (var p in modules)
            {
                var m = actual[p.Key];
                var e = p.Value;
                string where = $"{file} {component} {p.Key}";
                Assert.True(e["r"]!.AsInt64() == m.Rank, $"{where}: rank {m.Rank}, golden {e["r"]}");
                Assert.True(e["lora_alpha"]!.AsDouble() == m.Alpha, $"{where}: alpha {m.Alpha}, golden {e["lora_alpha"]}");
                Assert.True(e["scaling"]!.AsDouble() == m.Scaling, $"{where}: scaling {m.Scaling}, golden {e["scaling"]}");
                Assert.Equal(e["lora_A_shape"]!.Items.Select(x => x.AsInt64()), m.AShape);
                Assert.Equal(e["lora_B_shape"]!.Items.Select(x => x.AsInt64()), m.BShape);
                Assert.Equal(LoraLayerKind.Linear, m.Kind);
            }
        }
    }

    [Fact]
    public void KohyaFileSplitsFusedQkvAndFoldsAlphaLikeDiffusers()
    {
        var model = LoraFileModel.Read(TestPaths.FluxLora("flux_lora_a_kohya"), Tiny.Value);
        var transformer = model.Components[LoraComponents.Transformer];
        foreach (var (path, start) in new[] { ("attn.to_q", 0L), ("attn.to_k", 32L), ("attn.to_v", 64L) })
        {
            var m = transformer["transformer_blocks.1." + path];
            Assert.Equal("lora_unet_double_blocks_1_img_attn_qkv.lora_down.weight", m.AKey);
            Assert.Equal("lora_unet_double_blocks_1_img_attn_qkv.lora_up.weight", m.BKey);
            Assert.Equal("lora_unet_double_blocks_1_img_attn_qkv.alpha", m.AlphaKey);
            var c = m.Conversion!;
            Assert.Equal((start, 32L, 3, 2.0, 1.0, false), (c.BRowStart, c.BRowCount, c.SplitCount, c.AScale, c.BScale, c.SwapBHalves));
            Assert.Equal("lora_unet_double_blocks_1_img_attn_qkv", c.SourceModule);
            Assert.False(c.BlockDiagonalCandidate); // rank 4 does not divide into 3 parts
            Assert.Equal(LoraAlphaSource.FoldedIntoWeights, m.AlphaSource);
        }
        var add = transformer["transformer_blocks.0.attn.add_v_proj"];
        Assert.Equal((64L, 32L), (add.Conversion!.BRowStart, add.Conversion.BRowCount));
        var single = transformer["transformer_blocks.0.ff.net.0.proj"].Conversion!;
        Assert.Equal((0L, 128L, 1, 2.0, 1.0), (single.BRowStart, single.BRowCount, single.SplitCount, single.AScale, single.BScale));
        Assert.Equal(LoraArchitectures.Flux, LoraFileModel.Read(TestPaths.FluxLora("flux_lora_a_kohya")).ImpliedArchitecture);
        // Each fused key feeds three modules.
        Assert.Equal(3, model.KeyMappings.Count(k => k.Key == "lora_unet_double_blocks_0_txt_attn_qkv.lora_up.weight"));
    }

    [Fact]
    public void FullKohyaFileIsInvalidOnTheTinyModelBecauseDiffusersSplitsLinear1ByFlux1Sizes()
    {
        var model = LoraFileModel.Read(TestPaths.FluxLora("flux_lora_a_kohya_full"), Tiny.Value);
        Assert.Equal(8, model.InvalidModules.Count); // 2 blocks x (to_q, to_k, to_v, proj_mlp)
        var first = model.InvalidModules[0];
        Assert.Equal(LoraComponents.Transformer, first.Component);
        Assert.StartsWith("single_transformer_blocks.0.", first.ModulePath, StringComparison.Ordinal);
        Assert.Contains("[3072, 3072, 3072, 12288]", first.Reason, StringComparison.Ordinal);
        Assert.Contains("224 rows", first.Reason, StringComparison.Ordinal);
        Assert.Equal(26, model.ModuleCount);
    }

    [Fact]
    public void KohyaExtrasKeepOnlyTheBlockModulationsAndReportTheDroppedLayers()
    {
        var model = LoraFileModel.Read(TestPaths.FluxLora("flux_lora_kohya_extras"), Tiny.Value);
        Assert.Equal(new[]
        {
            "single_transformer_blocks.0.norm.linear", "single_transformer_blocks.1.norm.linear",
            "transformer_blocks.0.norm1.linear", "transformer_blocks.0.norm1_context.linear",
            "transformer_blocks.1.norm1.linear", "transformer_blocks.1.norm1_context.linear",
        }, model.Components[LoraComponents.Transformer].Keys);
        // alpha 2, rank 4: scale 0.5 stays on lora_A (0.5 * 2 < 1 is false), alpha becomes the rank.
        Assert.All(model.Components[LoraComponents.Transformer].Values, m =>
            Assert.Equal((4.0, 0.5, 1.0), (m.Alpha, m.Conversion!.AScale, m.Conversion.BScale)));
        Assert.Equal(30, model.Ignored.Count); // 10 non-block layers x (down, up, alpha)
        Assert.Contains(model.Ignored, i => i.Key == "lora_unet_img_in.lora_down.weight" && i.Reason.Contains("transformer.", StringComparison.Ordinal));
        Assert.Contains(model.Ignored, i => i.Key == "lora_unet_final_layer_linear.alpha" && i.Reason.Contains("final-layer alpha", StringComparison.Ordinal));
        Assert.Equal(model.Ignored.Select(i => i.Key).OrderBy(k => k, StringComparer.Ordinal), model.Ignored.Select(i => i.Key));
    }

    [Fact]
    public void PeftFileAlphasComeFromItsMetadata()
    {
        var a = LoraFileModel.Read(TestPaths.FluxLora("flux_lora_a"));
        Assert.All(a.Components[LoraComponents.Transformer].Values, m =>
        {
            Assert.Equal((4, 8.0, LoraAlphaSource.Metadata), (m.Rank, m.Alpha, m.AlphaSource));
            Assert.Null(m.Conversion);
        });
        Assert.Equal(LoraArchitectures.Flux, a.ImpliedArchitecture);
        Assert.NotEmpty(a.CheckCompatibility(null, null, null, FluxTransformerLayout.Flux1Dev)); // 32-wide layers are not FLUX.1's
    }

    [Fact]
    public void InspectJsonShowsTheSplitModulesAndTheIgnoredKeys()
    {
        var json = JsonValue.Parse(LoraInspectJson.Write(LoraFileModel.Read(TestPaths.FluxLora("flux_lora_kohya_extras"))));
        var module = json["components"]!["transformer"]!["modules"]!["transformer_blocks.0.norm1.linear"]!;
        Assert.Equal(4, module["rank"]!.AsInt64());
        Assert.Equal(4.0, module["alpha"]!.AsDouble());
        Assert.Equal("folded", module["alphaSource"]!.AsString());
        Assert.Equal("lora_unet_double_blocks_0_img_mod_lin", module["conversion"]!["source"]!.AsString());
        Assert.Equal(0.5, module["conversion"]!["aScale"]!.AsDouble());
        Assert.Equal(30, json["ignored"]!.Items.Count);
        var kohya = JsonValue.Parse(LoraInspectJson.Write(LoraFileModel.Read(TestPaths.FluxLora("flux_lora_a_kohya"))));
        var k = kohya["components"]!["transformer"]!["modules"]!["single_transformer_blocks.0.proj_out"]!;
        Assert.Equal(new long[] { 0, 32 }, k["conversion"]!["bRows"]!.Items.Select(i => i.AsInt64()));
        var v = kohya["components"]!["transformer"]!["modules"]!["transformer_blocks.0.attn.to_v"]!;
        Assert.Equal(new long[] { 64, 32 }, v["conversion"]!["bRows"]!.Items.Select(i => i.AsInt64()));
        Assert.True(kohya["components"]!["transformer"]!["modules"]!["transformer_blocks.0.attn.to_q"]!["conversion"]!["split"]!.AsInt64() == 3);
    }
}
