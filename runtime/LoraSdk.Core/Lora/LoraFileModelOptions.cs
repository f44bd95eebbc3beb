using System;

namespace LoraSdk.Core;

/// <summary>
/// The base-model layouts a LoRA file is read against. SGM/LDM block names (<c>input_blocks_4_1_…</c>) are resolved
/// with <see cref="Unet"/> (its <c>layers_per_block</c> decides the block indices); kohya names are resolved against
/// the known module paths of <see cref="Unet"/>, <see cref="TextEncoder"/>, <see cref="TextEncoder2"/> and the
/// built-in layouts (SDXL, SD 1.5, SD 2.1; CLIP-L, CLIP-G, OpenCLIP-H). Flux files are read against
/// <see cref="Transformer"/> (default FLUX.1-dev) and CLIP-L.
/// </summary>
public sealed class LoraFileModelOptions
{
    // Immutable (init-only) so the shared Default and cached key indexes can never change under a reader.
    private UnetLayout _unet = UnetLayout.SdxlBase;
    private TextEncoderLayout _textEncoder = TextEncoderLayout.ClipL;
    private TextEncoderLayout _textEncoder2 = TextEncoderLayout.ClipG;
    private FluxTransformerLayout _transformer = FluxTransformerLayout.Flux1Dev;

    /// <summary>The defaults: SDXL base UNet, CLIP-L and CLIP-G text encoders.</summary>
    public static LoraFileModelOptions Default { get; } = new LoraFileModelOptions();

    /// <summary>The UNet layout (default <see cref="UnetLayout.SdxlBase"/>).</summary>
    public UnetLayout Unet
    {
        get => _unet;
        init => _unet = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The layout of <c>text_encoder</c> (default <see cref="TextEncoderLayout.ClipL"/>).</summary>
    public TextEncoderLayout TextEncoder
    {
        get => _textEncoder;
        init => _textEncoder = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The layout of <c>text_encoder_2</c> (default <see cref="TextEncoderLayout.ClipG"/>).</summary>
    public TextEncoderLayout TextEncoder2
    {
        get => _textEncoder2;
        init => _textEncoder2 = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// The Flux transformer layout (default <see cref="FluxTransformerLayout.Flux1Dev"/>): resolves
    /// <c>lora_transformer_…</c> key names (with the built-in layouts) and decides <see cref="LoraFileModel.ImpliedArchitecture"/>
    /// for a custom transformer.
    /// </summary>
    public FluxTransformerLayout Transformer
    {
        get => _transformer;
        init => _transformer = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Options whose Flux transformer layout is read from a diffusers <c>FluxTransformer2DModel</c> <c>config.json</c> text.</summary>
    public static LoraFileModelOptions ForTransformerConfigJson(string transformerConfigJson, string name = "custom") =>
        new LoraFileModelOptions { Transformer = FluxTransformerLayout.FromTransformerConfigJson(transformerConfigJson, name) };

    /// <summary>
    /// Options for a denoiser <c>config.json</c> of either kind — a <c>FluxTransformer2DModel</c> config (by its
    /// <c>_class_name</c>) sets <see cref="Transformer"/>, anything else is read as a UNet config — what
    /// <c>lorasdk inspect --base-config</c> takes.
    /// </summary>
    /// <exception cref="LoraSdkFormatException">The text is not a valid config of either kind.</exception>
    public static LoraFileModelOptions ForBaseConfigJson(string configJson, string name = "custom") =>
        FluxTransformerLayout.IsTransformerConfig(configJson ?? throw new ArgumentNullException(nameof(configJson)))
            ? ForTransformerConfigJson(configJson, name)
            : ForUnetConfigJson(configJson, name);

    /// <summary>Options whose UNet layout is read from a diffusers UNet <c>config.json</c> text.</summary>
    public static LoraFileModelOptions ForUnetConfigJson(string unetConfigJson, string name = "custom") =>
        new LoraFileModelOptions { Unet = UnetLayout.FromUnetConfigJson(unetConfigJson, name) };
}
