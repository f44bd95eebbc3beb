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
        Require(index, "transformer", "FluxTransformer2DModel");
        Require(index, "vae", "AutoencoderKL");
        Require(index, "scheduler", "FlowMatchEulerDiscreteScheduler");

        var loaded = new List<IDisposable>();
        try
        {
            var transformer = ComponentLoader.LoadFluxTransformer(Path.Combine(folder, "transformer"), options);
            loaded.Add(transformer);
            var vae = ComponentLoader.LoadVae(Path.Combine(folder, "vae"), options);
            loaded.Add(vae);
            ClipTextModel? te = null;
            if (index.HasComponent("text_encoder"))
            {
                Expect(index, "text_encoder", "CLIPTextModel");
                te = ComponentLoader.LoadClipTextModel(Path.Combine(folder, "text_encoder"), options);
                loaded.Add(te);
            }
            T5EncoderModel? te2 = null;
            if (index.HasComponent("text_encoder_2"))
            {
                Expect(index, "text_encoder_2", "T5EncoderModel");
                te2 = ComponentLoader.LoadT5EncoderModel(Path.Combine(folder, "text_encoder_2"), options);
                loaded.Add(te2);
            }
            ClipTokenizer? tok = null;
            if (index.HasComponent("tokenizer"))
            {
                ExpectOneOf(index, "tokenizer", "CLIPTokenizer", "CLIPTokenizerFast");
                tok = ClipTokenizer.FromFolder(Path.Combine(folder, "tokenizer"));
            }
            T5Tokenizer? tok2 = null;
            if (index.HasComponent("tokenizer_2"))
            {
                ExpectOneOf(index, "tokenizer_2", "T5Tokenizer", "T5TokenizerFast");
                tok2 = T5Tokenizer.FromFolder(Path.Combine(folder, "tokenizer_2"));
            }
            var scheduler = new FlowMatchEulerDiscreteScheduler(
                FlowMatchEulerDiscreteSchedulerConfig.Load(Path.Combine(folder, "scheduler", "scheduler_config.json")));
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
