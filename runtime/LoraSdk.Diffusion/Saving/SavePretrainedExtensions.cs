using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Models.Vae;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// diffusers' / transformers' <c>save_pretrained</c> for each model of the SDXL host: the component folder diffusers
/// writes (<c>config.json</c> + <c>diffusion_pytorch_model[.variant].safetensors</c> for diffusers models,
/// <c>config.json</c> + <c>model[.variant].safetensors</c> for transformers text encoders,
/// <c>scheduler_config.json</c> for the scheduler), with the key names, dtypes and config fields those libraries
/// write, sharded above <see cref="ModelSaveOptions.MaxShardSize"/>. Each save is atomic: the folder appears complete
/// or not at all (an existing folder is replaced only when it is empty or holds what such a save writes).
/// The tokenizer's own <see cref="Tokenization.ClipTokenizer.SavePretrained"/> writes its folder.
/// </summary>
public static class SavePretrainedExtensions
{
    private const string DiffusersWeights = "diffusion_pytorch_model";
    private const string TransformersWeights = "model";

    /// <summary>Saves a <c>UNet2DConditionModel</c> folder (<c>config.json</c> + weights).</summary>
    /// <returns>The folder written (full path).</returns>
    /// <exception cref="ModelSaveException">Adapters still loaded, a bad option, or a target that may not be replaced.</exception>
    public static string SavePretrained(this UNet2DConditionModel unet, string folder, ModelSaveOptions? options = null) =>
        SaveModel(folder, options, "config.json", "UNet2DConditionModel", temp => WriteUNet(unet, temp, options ?? ModelSaveOptions.Default));

    /// <summary>Saves an <c>AutoencoderKL</c> folder.</summary>
    /// <returns>The folder written (full path).</returns>
    public static string SavePretrained(this AutoencoderKL vae, string folder, ModelSaveOptions? options = null) =>
        SaveModel(folder, options, "config.json", "AutoencoderKL", temp => WriteVae(vae, temp, options ?? ModelSaveOptions.Default));

    /// <summary>Saves a transformers <c>CLIPTextModel</c> folder (keys without <c>text_model.</c>, as transformers 5 writes them).</summary>
    /// <returns>The folder written (full path).</returns>
    public static string SavePretrained(this ClipTextModel textEncoder, string folder, ModelSaveOptions? options = null) =>
        SaveModel(folder, options, "config.json", "CLIPTextModel", temp => WriteClipTextModel(textEncoder, temp, options ?? ModelSaveOptions.Default));

    /// <summary>Saves a transformers <c>CLIPTextModelWithProjection</c> folder (keys under <c>text_model.</c> plus <c>text_projection.weight</c>).</summary>
    /// <returns>The folder written (full path).</returns>
    public static string SavePretrained(this ClipTextModelWithProjection textEncoder, string folder, ModelSaveOptions? options = null) =>
        SaveModel(folder, options, "config.json", "CLIPTextModelWithProjection",
            temp => WriteClipTextModelWithProjection(textEncoder, temp, options ?? ModelSaveOptions.Default));

    /// <summary>Saves an <c>EulerDiscreteScheduler</c> folder (<c>scheduler_config.json</c>).</summary>
    /// <returns>The folder written (full path).</returns>
    public static string SavePretrained(this EulerDiscreteScheduler scheduler, string folder) =>
        SaveModel(folder, null, "scheduler_config.json", "EulerDiscreteScheduler", temp => WriteScheduler(scheduler, temp));

    internal static void WriteUNet(UNet2DConditionModel unet, string folder, ModelSaveOptions options)
    {
        Directory.CreateDirectory(folder);
        var weights = StateDict(unet, "the UNet", key => key);
        WeightFileWriter.Write(folder, DiffusersWeights, weights, options, ModelSaveOptions.DiffusersDefaultMaxShardSize);
        WriteText(Path.Combine(folder, "config.json"), SavedConfigs.UNet(unet.Config, "the UNet"));
    }

    internal static void WriteVae(AutoencoderKL vae, string folder, ModelSaveOptions options)
    {
        Directory.CreateDirectory(folder);
        var weights = StateDict(vae, "the VAE", key => key);
        WeightFileWriter.Write(folder, DiffusersWeights, weights, options, ModelSaveOptions.DiffusersDefaultMaxShardSize);
        WriteText(Path.Combine(folder, "config.json"), SavedConfigs.Vae(vae.Config, "the VAE"));
    }

    internal static void WriteClipTextModel(ClipTextModel textEncoder, string folder, ModelSaveOptions options)
    {
        Directory.CreateDirectory(folder);
        // transformers 5 writes CLIPTextModel's keys without the text_model. level (4.x files with it load too).
        var weights = StateDict(textEncoder, "the CLIP text encoder", key => key);
        WeightFileWriter.Write(folder, TransformersWeights, weights, options, ModelSaveOptions.TransformersDefaultMaxShardSize);
        WriteText(Path.Combine(folder, "config.json"), SavedConfigs.ClipText(textEncoder.Config, "CLIPTextModel", options.DType ?? textEncoder.DType));
    }

    internal static void WriteClipTextModelWithProjection(ClipTextModelWithProjection textEncoder, string folder, ModelSaveOptions options)
    {
        Directory.CreateDirectory(folder);
        // CLIPTextModelWithProjection keeps the text_model. level in its keys; text_projection sits beside it.
        var weights = StateDict(textEncoder, "the CLIP text encoder with projection",
            key => key.StartsWith("text_projection.", StringComparison.Ordinal) ? key : "text_model." + key);
        WeightFileWriter.Write(folder, TransformersWeights, weights, options, ModelSaveOptions.TransformersDefaultMaxShardSize);
        WriteText(Path.Combine(folder, "config.json"),
            SavedConfigs.ClipText(textEncoder.Config, "CLIPTextModelWithProjection", options.DType ?? textEncoder.DType));
    }

    internal static void WriteScheduler(EulerDiscreteScheduler scheduler, string folder)
    {
        Directory.CreateDirectory(folder);
        WriteText(Path.Combine(folder, "scheduler_config.json"), SavedConfigs.EulerScheduler(scheduler.Config));
    }

    /// <summary>Validates the options (before anything is written).</summary>
    internal static void Validate(ModelSaveOptions options, string target)
    {
        if (options.Variant is { } v && (v.Length == 0 || v.IndexOfAny(new[] { '/', '\\', ' ' }) >= 0 || v == "." || v == ".."))
            throw new ModelSaveException(ModelSaveErrorKind.InvalidOption, target, $"variant '{v}' must be a plain name such as fp16");
        if (options.DType is { } d && d is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
            throw new ModelSaveException(ModelSaveErrorKind.InvalidOption, target, $"dtype {d} is not a floating-point dtype (float32, float16, bfloat16, float64)");
        if (options.MaxShardSize is { } m && m < 1)
            throw new ModelSaveException(ModelSaveErrorKind.InvalidOption, target, $"max shard size {m} must be at least one byte");
    }

    /// <summary>
    /// The model's weights under the names its library writes, in module order. A model that still carries LoRA
    /// adapters is refused: its weights alone are not what it computes, and diffusers would write PEFT layer keys.
    /// </summary>
    internal static List<KeyValuePair<string, Tensor>> StateDict(nn.Module model, string description, Func<string, string> keyOf)
    {
        foreach (var (name, m) in model.named_modules())
        {
            if (m is LoraLayer layer && (layer.AdapterNames.Count > 0 || layer.IsMaterialized))
            {
                throw new ModelSaveException(ModelSaveErrorKind.AdaptersLoaded, description,
                    $"layer '{name}' holds LoRA adapters ({string.Join(", ", layer.AdapterNames)}); diffusers' save_pretrained would write PEFT layer keys " +
                    "(base_layer, lora_A, lora_B) that from_pretrained cannot read back. Call UnloadLoraWeights() first — after FuseLora() to keep their effect in the saved weights.");
            }
        }
        return model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(keyOf(p.name), p.parameter)).ToList();
    }

    internal static void WriteText(string path, string text) => File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));

    private static string SaveModel(string folder, ModelSaveOptions? options, string marker, string what, Action<string> write)
    {
        Validate(options ?? ModelSaveOptions.Default, folder);
        using var target = AtomicFolder.Begin(folder, f => File.Exists(Path.Combine(f, marker)), what + " folder (no " + marker + ")");
        write(target.Path);
        target.Commit();
        return Path.GetFullPath(folder);
    }
}
