using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion;

/// <summary>
/// The seam through which the LoRA engine applies diffusers' runtime LoRA scale
/// (<c>cross_attention_kwargs["scale"]</c>, <c>encode_prompt(lora_scale=…)</c>): the host calls
/// <see cref="Scale"/> around a UNet forward or a prompt encoding and disposes the result afterwards, exactly where
/// diffusers calls <c>scale_lora_layers</c> / <c>unscale_lora_layers</c>. Without a hook (no LoRA engine attached)
/// a runtime scale has no effect, as in diffusers without LoRA layers.
/// </summary>
public interface ILoraScaleHook
{
    /// <summary>
    /// Multiplies the scaling of every active LoRA layer inside <paramref name="component"/> (the UNet or a text
    /// encoder) by <paramref name="scale"/> until the returned scope is disposed, which restores the previous
    /// scalings.
    /// </summary>
    IDisposable Scale(nn.Module component, double scale);
}
