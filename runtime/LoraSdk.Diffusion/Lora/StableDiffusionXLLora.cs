using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Core;
using static TorchSharp.torch;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Lora;

/// <summary>
/// The LoRA components of a <see cref="StableDiffusionXLPipeline"/>: <c>unet</c> (with its block layout, for block
/// weights), <c>text_encoder</c> and <c>text_encoder_2</c>, and the load options whose UNet layout comes from the UNet's
/// <c>config.json</c> (to map kohya / SGM key names).
/// </summary>
internal static class StableDiffusionXLLora
{
    /// <summary>The engine over <paramref name="pipeline"/>'s components (see <see cref="LoraPipeline.Lora"/>).</summary>
    public static LoraAdapterManager CreateManager(StableDiffusionXLPipeline pipeline, LoraLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var unet = pipeline.Unet;
        var names = unet.named_modules().Select(m => m.name).ToList();
        var components = new List<LoraComponent>
        {
            new(LoraComponents.Unet, unet, new LoraComponentOptions
            {
                Kind = LoraComponentKind.Denoiser,
                BlockLayout = UNetBlockLayout.FromModuleNames(names, unet.Config.LayersPerBlock[0]),
            }),
        };
        if (pipeline.TextEncoder is not null)
            components.Add(new LoraComponent(LoraComponents.TextEncoder, pipeline.TextEncoder, new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder }));
        if (pipeline.TextEncoder2 is not null)
            components.Add(new LoraComponent(LoraComponents.TextEncoder2, pipeline.TextEncoder2, new LoraComponentOptions
            {
                Kind = LoraComponentKind.TextEncoder,
                // transformers keeps the text_model. level in CLIPTextModelWithProjection, so diffusers' files do too.
                SavedModulePathMap = p => "text_model." + p,
            }));
        if (options is null && unet.Config.Source is { } source)
            options = new LoraLoadOptions { FileModelOptions = LoraFileModelOptions.ForUnetConfigJson(source.Text, PipelineComponentNames.Unet) };
        return new LoraAdapterManager(components, options);
    }
}
