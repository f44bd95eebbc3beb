using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>Names of the pipeline components a LoRA file can adapt (diffusers' attribute names).</summary>
public static class LoraComponents
{
    /// <summary>The denoising UNet.</summary>
    public const string Unet = "unet";

    /// <summary>The first (CLIP-L) text encoder; the only one of SD 1.x/2.x.</summary>
    public const string TextEncoder = "text_encoder";

    /// <summary>The second (CLIP-G, with projection) text encoder of SDXL.</summary>
    public const string TextEncoder2 = "text_encoder_2";

    /// <summary>All components in their canonical order.</summary>
    public static IReadOnlyList<string> All { get; } = new[] { Unet, TextEncoder, TextEncoder2 };

    /// <summary>True for <see cref="TextEncoder"/> and <see cref="TextEncoder2"/>.</summary>
    public static bool IsTextEncoder(string component) => component == TextEncoder || component == TextEncoder2;
}
