namespace LoraSdk.Core;

/// <summary>Normalized base-architecture names used by <see cref="LoraFileModel"/>.</summary>
public static class LoraArchitectures
{
    /// <summary>Stable Diffusion XL.</summary>
    public const string Sdxl = "sdxl";

    /// <summary>Stable Diffusion 1.x.</summary>
    public const string Sd15 = "sd15";

    /// <summary>Stable Diffusion 2.x.</summary>
    public const string Sd2 = "sd2";

    /// <summary>FLUX.1 (dev / schnell): a <c>FluxTransformer2DModel</c> denoiser (component <c>transformer</c>).</summary>
    public const string Flux = "flux";
}
