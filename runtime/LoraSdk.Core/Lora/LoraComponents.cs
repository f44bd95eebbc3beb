using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>Names of the pipeline components a LoRA file can adapt (diffusers' attribute names).</summary>
public static class LoraComponents
{
    /// <summary>The denoising UNet.</summary>
    public const string Unet = "unet";

    /// <summary>The denoising transformer of DiT pipelines (Flux).</summary>
    public const string Transformer = "transformer";

    /// <summary>The first (CLIP-L) text encoder; the only one of SD 1.x/2.x.</summary>
    public const string TextEncoder = "text_encoder";

    /// <summary>The second (CLIP-G, with projection) text encoder of SDXL.</summary>
    public const string TextEncoder2 = "text_encoder_2";

    /// <summary>All components in their canonical order.</summary>
    public static IReadOnlyList<string> All { get; } = new[] { Unet, Transformer, TextEncoder, TextEncoder2 };

    /// <summary>True for the names in <see cref="All"/>.</summary>
    public static bool IsKnown(string name)
    {
        foreach (var c in All) if (c == name) return true;
        return false;
    }

    /// <summary>True for the denoisers, <see cref="Unet"/> and <see cref="Transformer"/>.</summary>
    public static bool IsDenoiser(string component) => component == Unet || component == Transformer;

    /// <summary>True for <see cref="TextEncoder"/> and <see cref="TextEncoder2"/>.</summary>
    public static bool IsTextEncoder(string component) => component == TextEncoder || component == TextEncoder2;
}
