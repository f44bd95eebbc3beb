using System;
using System.IO;
using System.Linq;

namespace LoraSdk.Core.Tests.Flux;

/// <summary>The Flux transformer layout from a config.json: diffusers' module names, order and shapes.</summary>
public sealed class FluxTransformerLayoutTests
{
    private static string TinyConfig => File.ReadAllText(Path.Combine(TestPaths.FixturesFlux, "tiny-flux", "transformer", "config.json"));

    [Fact]
    public void TinyLayoutListsDiffusersLinearModulesInNamedModulesOrderWithTheCheckpointShapes()
    {
        var layout = FluxTransformerLayout.FromTransformerConfigJson(TinyConfig, "tiny");
        var goldens = JsonValue.Parse(File.ReadAllText(Path.Combine(TestPaths.FixturesFlux, "goldens.json")));
        var expected = goldens["tiny_flux"]!["transformer_linear_modules"]!.Items.Select(i => i.AsString());
        Assert.Equal(expected, layout.Modules.Select(m => m.Path));
        var header = SafetensorsHeader.Read(Path.Combine(TestPaths.FixturesFlux, "tiny-flux", "transformer", "diffusion_pytorch_model.safetensors"));
        foreach (var m in layout.Modules)
        {
            Assert.True(header.TryGetTensor(m.Path + ".weight", out var w), m.Path);
            Assert.Equal(new[] { m.OutFeatures, m.InFeatures }, w.Shape);
        }
        Assert.Equal(32, layout.InnerDim);
        Assert.True(layout.GuidanceEmbeds);
    }

    [Fact]
    public void Flux1DevHasFluxDimensions()
    {
        var l = FluxTransformerLayout.Flux1Dev;
        Assert.Equal(LoraArchitectures.Flux, l.Name);
        Assert.Equal(8 + 19 * 14 + 38 * 6 + 2, l.Modules.Count);
        Assert.True(l.TryGetModule("single_transformer_blocks.37.proj_out", out var projOut));
        Assert.Equal((15360L, 3072L), (projOut.InFeatures, projOut.OutFeatures));
        Assert.True(l.TryGetModule("x_embedder", out var x));
        Assert.Equal((64L, 3072L), (x.InFeatures, x.OutFeatures));
        Assert.True(l.TryGetModule("time_text_embed.guidance_embedder.linear_1", out _));
    }

    [Fact]
    public void BaseConfigDecidesUnetOrTransformer()
    {
        var flux = LoraFileModelOptions.ForBaseConfigJson(TinyConfig, "tiny");
        Assert.Equal("tiny", flux.Transformer.Name);
        Assert.Same(UnetLayout.SdxlBase, flux.Unet);
        var unet = LoraFileModelOptions.ForBaseConfigJson(File.ReadAllText(TestPaths.TinySdxl("unet/config.json")), "tiny-sdxl");
        Assert.Equal("tiny-sdxl", unet.Unet.Name);
        Assert.Same(FluxTransformerLayout.Flux1Dev, unet.Transformer);
        Assert.Throws<LoraSdkFormatException>(() => FluxTransformerLayout.FromTransformerConfigJson("{\"_class_name\": \"UNet2DConditionModel\"}"));
        Assert.Throws<LoraSdkFormatException>(() => FluxTransformerLayout.FromTransformerConfigJson("{\"num_layers\": -1}"));
    }
}
