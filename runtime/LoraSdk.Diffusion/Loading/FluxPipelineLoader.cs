using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.T5;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tokenization;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// Loads a diffusers <c>FluxPipeline</c> folder: reads <c>model_index.json</c>, then <c>transformer</c>,
/// <c>vae</c>, <c>text_encoder</c> (CLIP), <c>text_encoder_2</c> (T5), <c>tokenizer</c>, <c>tokenizer_2</c> and
/// <c>scheduler</c> from their subfolders (single or sharded safetensors, stored in any float dtype). Every model is
/// loaded in <see cref="ModelLoadOptions.DType"/>, the VAE too (FluxPipeline decodes in the VAE's own dtype and does
/// not upcast it); under float16 the T5 <c>wo</c> layers stay float32, as transformers keeps them.
/// </summary>
public static class FluxPipelineLoader
{
    /// <summary>Loads the pipeline in <paramref name="folder"/>.</summary>
    /// <exception cref="ModelLoadException">A missing or invalid file, an unsupported component, or bad weights.</exception>
    public static FluxPipeline Load(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var index = ModelIndex.Load(folder);
        if (index.ClassName != "FluxPipeline")
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, "_class_name",
                $"pipeline class '{index.ClassName}' is not supported (FluxPipeline)");
        Require(index, PipelineComponentNames.Transformer, "FluxTransformer2DModel");
        Require(index, PipelineComponentNames.Vae, "AutoencoderKL");
        Require(index, PipelineComponentNames.Scheduler, "FlowMatchEulerDiscreteScheduler");

        var loaded = new List<IDisposable>();
        try
        {
            var transformer = ComponentLoader.LoadFluxTransformer(Path.Combine(folder, PipelineComponentNames.Transformer), options);
            loaded.Add(transformer);
            var vae = ComponentLoader.LoadVae(Path.Combine(folder, PipelineComponentNames.Vae), options);
            loaded.Add(vae);
            ClipTextModel? te = null;
            if (index.HasComponent(PipelineComponentNames.TextEncoder))
            {
                Expect(index, PipelineComponentNames.TextEncoder, "CLIPTextModel");
                te = ComponentLoader.LoadClipTextModel(Path.Combine(folder, PipelineComponentNames.TextEncoder), options);
                loaded.Add(te);
            }
            T5EncoderModel? te2 = null;
            if (index.HasComponent(PipelineComponentNames.TextEncoder2))
            {
                Expect(index, PipelineComponentNames.TextEncoder2, "T5EncoderModel");
                te2 = ComponentLoader.LoadT5EncoderModel(Path.Combine(folder, PipelineComponentNames.TextEncoder2), options);
                loaded.Add(te2);
            }
            ClipTokenizer? tok = null;
            if (index.HasComponent(PipelineComponentNames.Tokenizer))
            {
                ExpectOneOf(index, PipelineComponentNames.Tokenizer, "CLIPTokenizer", "CLIPTokenizerFast");
                tok = ClipTokenizer.FromFolder(Path.Combine(folder, PipelineComponentNames.Tokenizer));
            }
            T5Tokenizer? tok2 = null;
            if (index.HasComponent(PipelineComponentNames.Tokenizer2))
            {
                ExpectOneOf(index, PipelineComponentNames.Tokenizer2, "T5Tokenizer", "T5TokenizerFast");
                tok2 = T5Tokenizer.FromFolder(Path.Combine(folder, PipelineComponentNames.Tokenizer2));
            }
            var scheduler = new FlowMatchEulerDiscreteScheduler(
                FlowMatchEulerDiscreteSchedulerConfig.Load(Path.Combine(folder, PipelineComponentNames.Scheduler, "scheduler_config.json")));
            return new FluxPipeline(transformer, vae, te, te2, tok, tok2, scheduler, Path.GetFullPath(folder));
        }
        catch
        {
            foreach (var d in loaded) d.Dispose();
            throw;
        }
    }

    private static void Require(ModelIndex index, string name, string className)
    {
        if (!index.HasComponent(name))
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, index.File.Path, name, "required component is missing");
        Expect(index, name, className);
    }

    private static void Expect(ModelIndex index, string name, string className) => ExpectOneOf(index, name, className);

    private static void ExpectOneOf(ModelIndex index, string name, params string[] classNames)
    {
        var (_, cls) = index.Components[name];
        if (Array.IndexOf(classNames, cls) < 0)
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, index.File.Path, name,
                $"component class '{cls}' is not supported ({string.Join(" or ", classNames)})");
    }
}
