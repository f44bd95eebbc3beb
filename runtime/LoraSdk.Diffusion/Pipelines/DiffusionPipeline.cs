using System;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// diffusers' <c>DiffusionPipeline.from_pretrained</c> / <c>AutoPipelineForText2Image</c>: reads a folder's
/// <c>model_index.json</c> and loads the pipeline class its <c>_class_name</c> names, among those this SDK hosts
/// (<see cref="HostedClasses"/>). Any other class is a <see cref="ModelLoadException"/> naming it.
/// </summary>
public static class DiffusionPipeline
{
    /// <summary>The <c>_class_name</c> values <see cref="FromPretrained"/> can load.</summary>
    public static readonly string[] HostedClasses = { "StableDiffusionXLPipeline", "FluxPipeline" };

    /// <summary>Loads the pipeline in <paramref name="folder"/> as the class its <c>model_index.json</c> names.</summary>
    /// <returns>A <see cref="StableDiffusionXLPipeline"/> or a <see cref="FluxPipeline"/> (the caller disposes it).</returns>
    /// <exception cref="ModelLoadException">
    /// No or malformed <c>model_index.json</c>; a class this SDK cannot host (<see cref="ModelLoadException.Key"/> is
    /// <c>_class_name</c>); or a component that fails to load.
    /// </exception>
    public static IDiffusionPipeline FromPretrained(string folder, ModelLoadOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new ArgumentException("a pipeline folder is required", nameof(folder));
        var index = ModelIndex.Load(folder);
        return index.ClassName switch
        {
            "StableDiffusionXLPipeline" => PipelineLoader.Load(folder, options),
            "FluxPipeline" => FluxPipelineLoader.Load(folder, options),
            _ => throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, "_class_name",
                $"pipeline class '{index.ClassName}' cannot be hosted by this SDK; DiffusionPipeline.FromPretrained loads {string.Join(" and ", HostedClasses)}"),
        };
    }

    /// <summary>
    /// <see cref="FromPretrained"/>, requiring the folder to hold a <typeparamref name="TPipeline"/>; another hosted class
    /// is a <see cref="ModelLoadException"/> naming both (and nothing stays loaded).
    /// </summary>
    public static TPipeline FromPretrained<TPipeline>(string folder, ModelLoadOptions? options = null) where TPipeline : class, IDiffusionPipeline
    {
        var pipeline = FromPretrained(folder, options);
        if (pipeline is TPipeline typed) return typed;
        string found = pipeline.ClassName;
        pipeline.Dispose();
        throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, System.IO.Path.Combine(folder, ModelIndex.FileName), "_class_name",
            $"the folder holds a {found}, not a {typeof(TPipeline).Name}");
    }
}
