using System;
using System.Collections.Generic;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;

namespace LoraSdk.Diffusion.Lora;

/// <summary>
/// The LoRA components of a <see cref="FluxPipeline"/>, as diffusers' <c>FluxLoraLoaderMixin._lora_loadable_modules</c>
/// lists them: <c>transformer</c> (the denoiser) and <c>text_encoder</c> (CLIP; diffusers loads no T5 LoRA), and the
/// load options whose transformer layout comes from the transformer's <c>config.json</c>.
/// </summary>
internal static class FluxLora
{
    /// <summary>The engine over <paramref name="pipeline"/>'s components (see <see cref="LoraPipeline.Lora"/>).</summary>
    public static LoraAdapterManager CreateManager(FluxPipeline pipeline, LoraLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var components = new List<LoraComponent>
        {
            new(LoraComponents.Transformer, pipeline.Transformer, new LoraComponentOptions { Kind = LoraComponentKind.Denoiser }),
        };
        if (pipeline.TextEncoder is not null)
            components.Add(new LoraComponent(LoraComponents.TextEncoder, pipeline.TextEncoder, new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder }));
        if (options is null && pipeline.Transformer.Config.Source is { } source)
            options = new LoraLoadOptions { FileModelOptions = LoraFileModelOptions.ForTransformerConfigJson(source.Text, LoraComponents.Transformer) };
        return new LoraAdapterManager(components, options);
    }
}
