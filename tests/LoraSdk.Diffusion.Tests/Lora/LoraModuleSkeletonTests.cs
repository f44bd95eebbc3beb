using System;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The model stand-in of <c>lorasdk merge</c> / <c>convert</c>: <see cref="DiffusersModuleOrder"/> sorts the host's own
/// models' layers (tiny SDXL UNet and CLIP encoders, tiny Flux transformer and CLIP — the same classes as the full-size
/// models, whose constructors mirror diffusers' registration order) into their <c>named_modules</c> order, and
/// <see cref="LoraModuleSkeleton"/> builds layers of the adapters' shapes in that order without base-weight memory.
/// </summary>
public sealed class LoraModuleSkeletonTests
{
    [Theory]
    [InlineData("sdxl")]
    [InlineData("flux")]
    public void ModuleOrderSortsEveryHostModelLikeNamedModules(string model)
    {
        using var pipe = DiffusionPipeline.FromPretrained(model == "sdxl" ? RepoPaths.TinySdxlPrompt : RepoPaths.TinyFlux);
        var manager = ((LoraSdk.Diffusion.Lora.LoraPipeline)pipe).Lora;
        var random = new Random(7);
        foreach (var component in manager.Components)
        {
            var paths = component.LayerPaths;
            Assert.True(paths.Count > 10, component.Name);
            Assert.All(paths, p => Assert.True(DiffusersModuleOrder.IsKnown(p), $"{component.Name}: {p} has a name the ranking does not know"));
            var shuffled = paths.OrderBy(_ => random.Next()).ToList();
            Assert.Equal(paths, shuffled.OrderBy(p => p, DiffusersModuleOrder.Instance).ToList());
        }
    }

    [Fact]
    public void UnknownNamesSortLastAndAreReported()
    {
        Assert.False(DiffusersModuleOrder.IsKnown("down_blocks.0.my_adapter.proj"));
        Assert.True(DiffusersModuleOrder.Instance.Compare("down_blocks.0.attentions.0", "down_blocks.0.my_adapter") < 0);
        Assert.True(DiffusersModuleOrder.Instance.Compare("down_blocks.10", "down_blocks.9") > 0); // indices compare as numbers
        Assert.True(DiffusersModuleOrder.Instance.Compare("up_blocks.0", "mid_block") < 0);        // diffusers' UNet: up_blocks before mid_block
    }

    [Fact]
    public void SkeletonHasTheModelsLayerOrderAndShapesWithoutWeightMemory()
    {
        var sources = new[] { Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), Path.Combine(RepoPaths.Loras, "lora_b.safetensors") };
        var skeleton = LoraModuleSkeleton.CreateManager(sources, ScalarType.Float32);
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        Assert.Equal(new[] { "unet", "text_encoder", "text_encoder_2" }, skeleton.Components.Select(c => c.Name));
        foreach (var component in skeleton.Components)
        {
            var real = pipe.Lora[component.Name];
            var paths = component.LayerPaths;
            Assert.Equal(real.LayerPaths.Where(paths.Contains), paths);
            foreach (var path in paths)
            {
                var layer = component.GetLayer(path)!;
                Assert.Equal(real.GetLayer(path)!.Weight.shape, layer.Weight.shape);
                Assert.All(layer.Weight.stride(), s => Assert.Equal(0, s)); // one zero broadcast: no memory per element
            }
        }
        Assert.Equal(156, skeleton["unet"].LayerPaths.Count); // lora_a's 96 attention layers + lora_b's 108, of which 48 are shared
    }

    [Fact]
    public void SourcesThatDisagreeOnALayerShapeAreRefused()
    {
        using var temp = new TempFolder();
        string Write(string name, long outFeatures)
        {
            string path = Path.Combine(temp.Path, name);
            using var a = zeros(4, 8);
            using var b = zeros(outFeatures, 4);
            LoraSdk.IO.SafetensorsWriter.Save(path, new[]
            {
                new System.Collections.Generic.KeyValuePair<string, Tensor>("unet.mid_block.attentions.0.proj_in.lora_A.weight", a),
                new System.Collections.Generic.KeyValuePair<string, Tensor>("unet.mid_block.attentions.0.proj_in.lora_B.weight", b),
            });
            return path;
        }
        var e = Assert.Throws<LoraException>(() => LoraModuleSkeleton.CreateManager(new[] { Write("a.safetensors", 16), Write("b.safetensors", 32) }));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("unet layer 'mid_block.attentions.0.proj_in' is Linear(8 -> 16) in ", e.Message);
        Assert.Contains("but Linear(8 -> 32) in ", e.Message);
    }
}
