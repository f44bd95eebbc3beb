using System;
using LoraSdk.Diffusion.Pipelines;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>xUnit class fixture: the embedded tiny prompt pipeline (models/tiny-sdxl-prompt) loaded once, float32.</summary>
public sealed class PromptPipelineFixture : IDisposable
{
    /// <summary>The loaded pipeline.</summary>
    public StableDiffusionXLPipeline Pipeline { get; } = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);

    /// <inheritdoc />
    public void Dispose() => Pipeline.Dispose();
}
