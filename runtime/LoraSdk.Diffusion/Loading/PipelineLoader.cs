using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Models.Vae;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tokenization;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// Loads a diffusers <c>StableDiffusionXLPipeline</c> folder: reads <c>model_index.json</c>, then each listed
/// component (<c>unet</c>, <c>vae</c>, <c>text_encoder</c>, <c>text_encoder_2</c>, <c>tokenizer</c>,
/// <c>tokenizer_2</c>, <c>scheduler</c>) from its subfolder. Components listed as <c>[null, null]</c> are absent.
/// Every model is loaded in <see cref="ModelLoadOptions.DType"/> whatever its stored dtype (so text encoders saved in
/// float16 load as float32 by default); a float16 VAE with <c>force_upcast</c> is loaded in float32, which is what
/// diffusers decodes with.
/// </summary>
public static class PipelineLoader
{
    private static readonly HashSet<string> SupportedPipelines = new(StringComparer.Ordinal)
    {
        "StableDiffusionXLPipeline",
    };

    /// <summary>Loads the pipeline in <paramref name="folder"/>.</summary>
    /// <exception cref="ModelLoadException">A missing or invalid file, an unsupported component, or bad weights.</exception>
    public static StableDiffusionXLPipeline Load(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var index = ModelIndex.Load(folder);
        if (!SupportedPipelines.Contains(index.ClassName))
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, "_class_name",
                $"pipeline class '{index.ClassName}' is not supported (StableDiffusionXLPipeline)");
        Require(index, PipelineComponentNames.Unet, "UNet2DConditionModel");
        Require(index, PipelineComponentNames.Vae, "AutoencoderKL");
        Require(index, PipelineComponentNames.Scheduler, "EulerDiscreteScheduler");

        var loaded = new List<IDisposable>();
        try
        {
            var unet = ComponentLoader.LoadUNet(Path.Combine(folder, PipelineComponentNames.Unet), options);
            loaded.Add(unet);
            var vaeConfig = AutoencoderKLConfig.Load(Path.Combine(folder, PipelineComponentNames.Vae, "config.json"));
            var vaeOptions = options.DType == ScalarType.Float16 && vaeConfig.ForceUpcast
                ? new ModelLoadOptions { DType = ScalarType.Float32, Device = options.Device, Variant = options.Variant }
                : options;
            var vae = ComponentLoader.LoadVae(Path.Combine(folder, PipelineComponentNames.Vae), vaeOptions);
            loaded.Add(vae);
            ClipTextModel? te = null;
            if (index.HasComponent(PipelineComponentNames.TextEncoder))
            {
                Expect(index, PipelineComponentNames.TextEncoder, "CLIPTextModel");
                te = ComponentLoader.LoadClipTextModel(Path.Combine(folder, PipelineComponentNames.TextEncoder), options);
                loaded.Add(te);
            }
            ClipTextModelWithProjection? te2 = null;
            if (index.HasComponent(PipelineComponentNames.TextEncoder2))
            {
                Expect(index, PipelineComponentNames.TextEncoder2, "CLIPTextModelWithProjection");
                te2 = ComponentLoader.LoadClipTextModelWithProjection(Path.Combine(folder, PipelineComponentNames.TextEncoder2), options);
                loaded.Add(te2);
            }
            ClipTokenizer? tok = index.HasComponent(PipelineComponentNames.Tokenizer) ? LoadTokenizer(index, folder, PipelineComponentNames.Tokenizer) : null;
            ClipTokenizer? tok2 = index.HasComponent(PipelineComponentNames.Tokenizer2) ? LoadTokenizer(index, folder, PipelineComponentNames.Tokenizer2) : null;
            var scheduler = new EulerDiscreteScheduler(
                EulerDiscreteSchedulerConfig.Load(Path.Combine(folder, PipelineComponentNames.Scheduler, "scheduler_config.json")));
            return new StableDiffusionXLPipeline(unet, vae, te, te2, tok, tok2, scheduler, index.ForceZerosForEmptyPrompt,
                Path.GetFullPath(folder));
        }
        catch
        {
            foreach (var d in loaded) d.Dispose();
            throw;
        }
    }

    private static ClipTokenizer LoadTokenizer(ModelIndex index, string folder, string name)
    {
        var (_, cls) = index.Components[name];
        if (cls is not ("CLIPTokenizer" or "CLIPTokenizerFast"))
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, name,
                $"tokenizer class '{cls}' is not supported (CLIPTokenizer)");
        return ClipTokenizer.FromFolder(Path.Combine(folder, name));
    }

    private static void Require(ModelIndex index, string name, string className)
    {
        if (!index.HasComponent(name))
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, index.File.Path, name, "required component is missing");
        Expect(index, name, className);
    }

    private static void Expect(ModelIndex index, string name, string className)
    {
        var (_, cls) = index.Components[name];
        if (cls != className)
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, name,
                $"component class '{cls}' is not supported ({className})");
    }
}
