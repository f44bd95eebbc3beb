using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Lora;

/// <summary>
/// Binds the engine's <see cref="LoraAdapterManager"/> (the <c>ILoraPipeline</c> implementation) to a
/// <see cref="StableDiffusionXLPipeline"/>: registers <c>unet</c> (with its block layout, for block scales),
/// <c>text_encoder</c> and <c>text_encoder_2</c>, and installs the manager as the pipeline's runtime-scale hook, so
/// <see cref="StableDiffusionXLCallOptions.CrossAttentionScale"/> scales UNet and text-encoder LoRA layers like
/// diffusers' <c>cross_attention_kwargs["scale"]</c>.
/// </summary>
public static class StableDiffusionXLLora
{
    /// <summary>
    /// Creates the LoRA manager of <paramref name="pipeline"/>. The UNet's <c>config.json</c> gives the layout used to
    /// map kohya / SGM key names; pass <paramref name="options"/> to override.
    /// </summary>
    public static LoraAdapterManager AttachLora(this StableDiffusionXLPipeline pipeline, LoraLoadOptions? options = null)
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
            options = new LoraLoadOptions { FileModelOptions = LoraFileModelOptions.ForUnetConfigJson(source.Text, "unet") };
        var manager = new LoraAdapterManager(components, options);
        pipeline.LoraScaleHook = new ManagerScaleHook(manager);
        return manager;
    }

    private sealed class ManagerScaleHook : ILoraScaleHook
    {
        private readonly LoraAdapterManager _manager;

        public ManagerScaleHook(LoraAdapterManager manager) => _manager = manager;

        public IDisposable Scale(nn.Module component, double scale) => _manager.ApplyRuntimeScale(component, scale);
    }
}
