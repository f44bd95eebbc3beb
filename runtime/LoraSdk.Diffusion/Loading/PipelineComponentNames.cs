using LoraSdk.Core;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// diffusers' pipeline component names: the attributes of <c>model_index.json</c>, the sub-folders of a pipeline
/// folder, and the keys of <c>pipe.components</c>. The LoRA-adaptable ones are the same words as the LoRA components
/// (<see cref="LoraComponents"/>: diffusers prefixes a LoRA file's keys with the component's attribute name).
/// </summary>
internal static class PipelineComponentNames
{
    /// <summary><c>unet</c> (SDXL's denoiser).</summary>
    public const string Unet = LoraComponents.Unet;

    /// <summary><c>transformer</c> (Flux's denoiser).</summary>
    public const string Transformer = LoraComponents.Transformer;

    /// <summary><c>text_encoder</c>.</summary>
    public const string TextEncoder = LoraComponents.TextEncoder;

    /// <summary><c>text_encoder_2</c>.</summary>
    public const string TextEncoder2 = LoraComponents.TextEncoder2;

    /// <summary><c>vae</c>.</summary>
    public const string Vae = "vae";

    /// <summary><c>scheduler</c>.</summary>
    public const string Scheduler = "scheduler";

    /// <summary><c>tokenizer</c>.</summary>
    public const string Tokenizer = "tokenizer";

    /// <summary><c>tokenizer_2</c>.</summary>
    public const string Tokenizer2 = "tokenizer_2";
}
