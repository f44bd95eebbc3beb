using System;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Flux;
using LoraSdk.Diffusion.Models.T5;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Models.Vae;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Loading;

/// <summary>Loads single diffusers / transformers components from their folders (config + safetensors weights).</summary>
public static class ComponentLoader
{
    private const string DiffusersWeights = "diffusion_pytorch_model";
    private const string TransformersWeights = "model";
    private const string TextModelPrefix = "text_model.";
    private const string SharedEmbedding = "shared.weight";
    private const string TiedEmbedding = "encoder.embed_tokens.weight";

    /// <summary>Loads a <c>UNet2DConditionModel</c> folder (<c>config.json</c> + weights).</summary>
    public static UNet2DConditionModel LoadUNet(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = UNet2DConditionConfig.Load(Path.Combine(folder, "config.json"));
        return Load(folder, DiffusersWeights, options, p => new UNet2DConditionModel(config, p), null);
    }

    /// <summary>Loads a <c>FluxTransformer2DModel</c> folder (<c>config.json</c> + single or sharded weights).</summary>
    public static FluxTransformer2DModel LoadFluxTransformer(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = FluxTransformer2DConfig.Load(Path.Combine(folder, "config.json"));
        return Load(folder, DiffusersWeights, options, p => new FluxTransformer2DModel(config, p), null);
    }

    /// <summary>Loads an <c>AutoencoderKL</c> folder.</summary>
    public static AutoencoderKL LoadVae(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = AutoencoderKLConfig.Load(Path.Combine(folder, "config.json"));
        return Load(folder, DiffusersWeights, options, p => new AutoencoderKL(config, p), null);
    }

    /// <summary>
    /// Loads a <c>CLIPTextModel</c> folder. Keys with or without the classic <c>text_model.</c> prefix load; the
    /// weights are converted to the requested dtype whatever they are stored in.
    /// </summary>
    public static ClipTextModel LoadClipTextModel(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = ClipTextConfig.Load(Path.Combine(folder, "config.json"));
        return Load(folder, TransformersWeights, options, p => new ClipTextModel(config, p), MapClipKey);
    }

    /// <summary>Loads a <c>CLIPTextModelWithProjection</c> folder (both key layouts).</summary>
    public static ClipTextModelWithProjection LoadClipTextModelWithProjection(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = ClipTextConfig.Load(Path.Combine(folder, "config.json"));
        return Load(folder, TransformersWeights, options, p => new ClipTextModelWithProjection(config, p), MapClipKey);
    }

    /// <summary>
    /// Loads a transformers <c>T5EncoderModel</c> folder (<c>config.json</c> + single or sharded <c>model</c>
    /// weights). The token embedding may be stored as <c>shared.weight</c>, as the tied
    /// <c>encoder.embed_tokens.weight</c>, or as both (then <c>shared.weight</c> is used).
    /// </summary>
    public static T5EncoderModel LoadT5EncoderModel(string folder, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        var config = T5Config.Load(Path.Combine(folder, "config.json"));
        return LoadMapped(folder, TransformersWeights, options, p => new T5EncoderModel(config, p), MapT5Key);
    }

    /// <summary>
    /// Maps a transformers CLIP text checkpoint key to the host's layout: strips <c>text_model.</c>; skips the
    /// non-persistent <c>position_ids</c> buffer older checkpoints contain.
    /// </summary>
    public static string? MapClipKey(string key)
    {
        string name = key.StartsWith(TextModelPrefix, StringComparison.Ordinal) ? key.Substring(TextModelPrefix.Length) : key;
        return name == "embeddings.position_ids" ? null : name;
    }

    // The key mapper of a T5 checkpoint: the tied embedding copy is dropped when shared.weight is stored too.
    private static Func<string, string?> MapT5Key(WeightSource source)
    {
        bool hasShared = source.Keys.Contains(SharedEmbedding, StringComparer.Ordinal);
        return key => key == TiedEmbedding ? (hasShared ? null : SharedEmbedding) : key;
    }

    private static T Load<T>(string folder, string weightsName, ModelLoadOptions options, Func<ModelPlacement, T> build,
        Func<string, string?>? mapKey) where T : nn.Module =>
        LoadMapped(folder, weightsName, options, build, mapKey is null ? null : _ => mapKey);

    private static T LoadMapped<T>(string folder, string weightsName, ModelLoadOptions options, Func<ModelPlacement, T> build,
        Func<WeightSource, Func<string, string?>>? mapKeyFor) where T : nn.Module
    {
        using var source = WeightSource.Open(folder, weightsName, options.Variant);
        var mapKey = mapKeyFor?.Invoke(source);
        var model = build(new ModelPlacement(options.DType, options.Device));
        try
        {
            StateDictLoader.Load(model, source, options.DType, mapKey);
            foreach (var p in model.parameters()) p.requires_grad = false;
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
