using System.IO;
using LoraSdk.Core;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>
/// <c>DiffusionPipeline.FromPretrained</c>: the pipeline class comes from <c>model_index.json</c>'s <c>_class_name</c>
/// (diffusers' <c>DiffusionPipeline.from_pretrained</c> / <c>AutoPipelineForText2Image</c>); a class the SDK cannot host
/// is a typed error naming it.
/// </summary>
public sealed class DiffusionPipelineTests
{
    [Fact]
    public void AnSdxlFolderGivesAStableDiffusionXLPipeline()
    {
        using var pipeline = DiffusionPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        var sdxl = Assert.IsType<StableDiffusionXLPipeline>(pipeline);
        Assert.Equal("StableDiffusionXLPipeline", pipeline.ClassName);
        Assert.Equal(Path.GetFullPath(RepoPaths.TinySdxlPrompt), pipeline.SourceFolder);
        Assert.Equal(new[] { "unet", "vae", "text_encoder", "text_encoder_2" }, pipeline.Components.Keys);
        using var image = Flows.SeedFlows.Image(sdxl);
        Flows.SeedFlows.AssertGolden(image, "fuse_save/base/image");
    }

    [Fact]
    public void AFluxFolderGivesAFluxPipeline()
    {
        using var pipeline = DiffusionPipeline.FromPretrained(RepoPaths.TinyFlux);
        Assert.IsType<FluxPipeline>(pipeline);
        Assert.Equal("FluxPipeline", pipeline.ClassName);
        Assert.Contains("transformer", pipeline.Components.Keys);
        using var typed = DiffusionPipeline.FromPretrained<FluxPipeline>(RepoPaths.TinyFlux);
        Assert.Same(typed.Transformer, typed.Components["transformer"]);
    }

    [Fact]
    public void AClassTheSdkCannotHostIsNamed()
    {
        using var temp = new TempFolder();
        File.WriteAllText(Path.Combine(temp.Path, "model_index.json"),
            "{\"_class_name\": \"StableDiffusion3Pipeline\", \"transformer\": [\"diffusers\", \"SD3Transformer2DModel\"]}");
        var e = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.FromPretrained(temp.Path));
        Assert.Equal(ModelLoadErrorKind.UnsupportedConfiguration, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Unsupported, e.Category);
        Assert.Equal("_class_name", e.Key);
        Assert.Contains("'StableDiffusion3Pipeline' cannot be hosted", e.Message);
        Assert.Contains("StableDiffusionXLPipeline and FluxPipeline", e.Message);
    }

    [Fact]
    public void AFolderWithoutModelIndexAndTheWrongExpectedClassAreTypedErrors()
    {
        using var temp = new TempFolder();
        var missing = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.FromPretrained(temp.Path));
        Assert.Equal(ModelLoadErrorKind.MissingFile, missing.Kind);
        Assert.EndsWith("model_index.json", missing.FilePath);

        var wrong = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.FromPretrained<FluxPipeline>(RepoPaths.TinySdxlPrompt));
        Assert.Contains("holds a StableDiffusionXLPipeline, not a FluxPipeline", wrong.Message);
    }
}
