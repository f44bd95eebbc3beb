using System;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>Loading of the tokenizer-less tiny-sdxl pipeline and folder-level errors.</summary>
public sealed class TinySdxlPipelineTests
{
    [Fact]
    public void PipelineWithoutTokenizersLoadsAndRefusesTextPromptsClearly()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        Assert.Null(pipe.Tokenizer);
        Assert.Null(pipe.Tokenizer2);
        Assert.Equal(2, pipe.VaeScaleFactor);
        Assert.Equal(32, pipe.DefaultSampleSize);
        Assert.True(pipe.ForceZerosForEmptyPrompt);
        Assert.Equal(new[] { "text_encoder", "text_encoder_2", "unet", "vae" }, new System.Collections.Generic.SortedSet<string>(pipe.Components.Keys, StringComparer.Ordinal));
        var e = Assert.Throws<InvalidOperationException>(() => pipe.Generate(new StableDiffusionXLCallOptions { Prompt = "a cat", NumInferenceSteps = 1 }));
        Assert.Contains("tokenizer", e.Message);
    }

    [Fact]
    public void MissingModelIndexIsATypedError()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<ModelLoadException>(() => StableDiffusionXLPipeline.FromPretrained(temp.Path));
        Assert.Equal(ModelLoadErrorKind.MissingFile, e.Kind);
        Assert.EndsWith("model_index.json", e.FilePath);
    }
}
