using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// What every pipeline <see cref="DiffusionPipeline.FromPretrained"/> returns has in common, as diffusers'
/// <c>DiffusionPipeline</c> base: its class name, the folder it came from and its model components. Generate with
/// the concrete type (<see cref="StableDiffusionXLPipeline"/>, <see cref="FluxPipeline"/>): their call options differ.
/// Disposing releases every model.
/// </summary>
public interface IDiffusionPipeline : IDisposable
{
    /// <summary>diffusers' pipeline class (<c>model_index.json</c>'s <c>_class_name</c>), e.g. <c>StableDiffusionXLPipeline</c>.</summary>
    string ClassName { get; }

    /// <summary>The folder the pipeline was loaded from, or null.</summary>
    string? SourceFolder { get; }

    /// <summary>The model components by diffusers name (<c>unet</c> or <c>transformer</c>, <c>vae</c>, the text encoders).</summary>
    IReadOnlyDictionary<string, nn.Module> Components { get; }
}
