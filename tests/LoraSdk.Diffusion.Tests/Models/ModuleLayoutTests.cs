using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Layers;

namespace LoraSdk.Diffusion.Tests.Models;

/// <summary>Module paths and their order equal diffusers' (PEFT walks named_modules in this order).</summary>
public sealed class ModuleLayoutTests
{
    [Fact]
    public void UNetLoraLayersHaveDiffusersNamesInNamedModulesOrder()
    {
        using var unet = ComponentLoader.LoadUNet(Path.Combine(RepoPaths.TinySdxl, "unet"));
        var modules = unet.named_modules().ToList();
        var linear = modules.Where(m => m.module is LoraLinear).Select(m => m.name).ToList();
        var conv = modules.Where(m => m.module is LoraConv2d).Select(m => m.name).ToList();
        var info = GoldenSet.Reference.Node("tiny_sdxl");
        Assert.Equal(info["unet_linear_modules"]!.AsInt64(), linear.Count);
        Assert.Equal(info["unet_conv2d_modules"]!.AsInt64(), conv.Count);

        // PEFT's injected modules for lora_b (to_q, to_v, ff, proj_in/out, conv1/conv2), in the order PEFT visited them.
        var injected = GoldenSet.Reference.Node("injected_modules", "lora_b", "unet", "modules").Properties.Select(p => p.Key).ToList();
        var ours = modules.Select(m => m.name).Where(n => injected.Contains(n)).ToList();
        Assert.Equal(injected, ours);
    }

    [Fact]
    public void TextEncoderLoraLayersAreTheInjectedOnesInOrder()
    {
        using var te = ComponentLoader.LoadClipTextModel(Path.Combine(RepoPaths.TinySdxl, "text_encoder"));
        var injected = GoldenSet.Reference.Node("injected_modules", "lora_a", "text_encoder", "modules").Properties.Select(p => p.Key).ToList();
        var ours = te.named_modules().Where(m => m.module is LoraLinear).Select(m => m.name).Where(n => injected.Contains(n)).ToList();
        Assert.Equal(injected, ours);
        Assert.Equal(20, ours.Count);
    }
}
