using System;

namespace LoraSdk.Adapters;

/// <summary>What role a component plays in diffusers (decides hotswap support, block scales and messages).</summary>
public enum LoraComponentKind
{
    /// <summary>A diffusers model (<c>ModelMixin</c>: UNet, transformer): hotswap, <c>get_active_adapters</c>.</summary>
    Denoiser,

    /// <summary>A transformers text encoder: no hotswap (diffusers' ValueError).</summary>
    TextEncoder,

    /// <summary>Any other module tree (a user's model): PEFT semantics without diffusers' restrictions.</summary>
    Other,
}

/// <summary>How a component is made LoRA-capable.</summary>
public sealed class LoraComponentOptions
{
    /// <summary>The component's role (default <see cref="LoraComponentKind.Other"/>).</summary>
    public LoraComponentKind Kind { get; init; } = LoraComponentKind.Other;

    /// <summary>
    /// For a <c>UNet2DConditionModel</c>: enables diffusers' block-scale dicts in <c>set_adapters</c>
    /// (<c>down</c>/<c>mid</c>/<c>up</c>, <c>block_i</c>, per-transformer lists).
    /// </summary>
    public UNetBlockLayout? BlockLayout { get; init; }

    /// <summary>
    /// Make plain TorchSharp <c>nn.Linear</c>/<c>nn.Conv2d</c> layers LoRA-capable when an adapter targets them: the
    /// layer is wrapped in a <see cref="Layers.LoraLinear"/>/<see cref="Layers.LoraConv2d"/> sharing its parameters,
    /// which replaces it in the parent's field (typed <c>Module&lt;Tensor, Tensor&gt;</c>) or <c>ModuleList</c> and in
    /// the registered children; unload puts the original back. Default true.
    /// </summary>
    public bool WrapPlainLayers { get; init; } = true;

    /// <summary>
    /// Maps a module path of a LoRA file (diffusers naming; text encoders without <c>text_model.</c>) to this
    /// component's module path, or null for identity.
    /// </summary>
    public Func<string, string>? ModulePathMap { get; init; }

    /// <summary>
    /// Maps a component module path to the module path that save_lora_adapter / save_lora_weights write (the naming
    /// of the original diffusers/transformers model), or null to write the path the adapter was loaded with. Example:
    /// transformers' <c>CLIPTextModelWithProjection</c> keeps a <c>text_model.</c> level that the host's text encoder
    /// does not have, so SDXL's <c>text_encoder_2</c> uses <c>path =&gt; "text_model." + path</c>.
    /// </summary>
    public Func<string, string>? SavedModulePathMap { get; init; }
}
