using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// diffusers' <c>StableDiffusionXLPipeline.save_pretrained</c>: one subfolder per component (<c>unet</c>,
/// <c>vae</c>, <c>text_encoder</c>, <c>text_encoder_2</c>, <c>tokenizer</c>, <c>tokenizer_2</c>, <c>scheduler</c>) and
/// <c>model_index.json</c>, written to a temporary folder that replaces the target only when complete.
/// </summary>
internal static class StableDiffusionXLPipelineSaver
{
    public static string Save(StableDiffusionXLPipeline pipe, string folder, ModelSaveOptions? options)
    {
        options ??= ModelSaveOptions.Default;
        SavePretrainedExtensions.Validate(options, folder);
        if (pipe.HasLora && pipe.Lora.GetListAdapters() is { Count: > 0 } adapters)
        {
            var names = adapters.SelectMany(kv => kv.Value).Distinct().ToList();
            throw new ModelSaveException(ModelSaveErrorKind.AdaptersLoaded, folder,
                $"the pipeline has LoRA adapters loaded ({string.Join(", ", names)}); diffusers' save_pretrained would write PEFT layer keys " +
                "(base_layer, lora_A, lora_B) that from_pretrained cannot read back. Call UnloadLoraWeights() first — after FuseLora() to keep their " +
                "effect in the saved weights — or save the adapters with SaveLoraWeights.");
        }
        using var target = AtomicFolder.Begin(folder, f => File.Exists(Path.Combine(f, Configuration.ModelIndex.FileName)), "pipeline (no model_index.json)");
        string root = target.Path;
        SavePretrainedExtensions.WriteUNet(pipe.Unet, Path.Combine(root, PipelineComponentNames.Unet), options);
        SavePretrainedExtensions.WriteVae(pipe.Vae, Path.Combine(root, PipelineComponentNames.Vae), options);
        if (pipe.TextEncoder is not null) SavePretrainedExtensions.WriteClipTextModel(pipe.TextEncoder, Path.Combine(root, PipelineComponentNames.TextEncoder), options);
        if (pipe.TextEncoder2 is not null)
            SavePretrainedExtensions.WriteClipTextModelWithProjection(pipe.TextEncoder2, Path.Combine(root, PipelineComponentNames.TextEncoder2), options);
        pipe.Tokenizer?.SavePretrained(Path.Combine(root, PipelineComponentNames.Tokenizer));
        pipe.Tokenizer2?.SavePretrained(Path.Combine(root, PipelineComponentNames.Tokenizer2));
        SavePretrainedExtensions.WriteScheduler(pipe.Scheduler, Path.Combine(root, PipelineComponentNames.Scheduler));

        (string?, string?) Entry(bool present, string library, string cls) => present ? (library, cls) : (null, null);
        var components = new Dictionary<string, (string? Library, string? Class)>
        {
            ["feature_extractor"] = (null, null),
            ["image_encoder"] = (null, null),
            [PipelineComponentNames.Scheduler] = ("diffusers", "EulerDiscreteScheduler"),
            [PipelineComponentNames.TextEncoder] = Entry(pipe.TextEncoder is not null, "transformers", "CLIPTextModel"),
            [PipelineComponentNames.TextEncoder2] = Entry(pipe.TextEncoder2 is not null, "transformers", "CLIPTextModelWithProjection"),
            [PipelineComponentNames.Tokenizer] = Entry(pipe.Tokenizer is not null, "transformers", "CLIPTokenizer"),
            [PipelineComponentNames.Tokenizer2] = Entry(pipe.Tokenizer2 is not null, "transformers", "CLIPTokenizer"),
            [PipelineComponentNames.Unet] = ("diffusers", "UNet2DConditionModel"),
            [PipelineComponentNames.Vae] = ("diffusers", "AutoencoderKL"),
        };
        var extra = new Dictionary<string, object?> { ["force_zeros_for_empty_prompt"] = pipe.ForceZerosForEmptyPrompt };
        SavePretrainedExtensions.WriteText(Path.Combine(root, Configuration.ModelIndex.FileName),
            SavedConfigs.ModelIndex("StableDiffusionXLPipeline", pipe.SourceFolder, components, extra));
        target.Commit();
        return Path.GetFullPath(folder);
    }
}
