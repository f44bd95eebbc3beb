using System;
using LoraSdk.Diffusion.Pipelines;

namespace LoraSdk.Cli.Infrastructure.Torch;

/// <summary>
/// A deliberately simple upper-end estimate of the memory one SDXL generation needs beyond the loaded weights, from
/// the model's configs and the image size, so that a size the machine cannot hold is refused in words before libtorch
/// fails an allocation (or the kernel kills the process). Attention is counted as linear in the tokens (libtorch's CPU
/// scaled-dot-product attention is the blocked "flash" kernel). libtorch's CPU convolutions unfold their input
/// (im2col: 9 × input channels per pixel for a 3×3 kernel), which dominates:
/// <list type="bullet">
/// <item>UNet (batch 2 with guidance): the skip activations of every level kept for the up path, plus a working set of
/// 25 × the largest level (the unfolded 3×3 input, a transformer block's GEGLU feed-forward of 8 × its channels, q/k/v/out).</item>
/// <item>VAE decoder at full resolution (batch 1): 12 tensors' worth of the channels entering the last block (the
/// upsampled input, its unfolded 3×3 convolution input, its output) and 4 of the last block's own channels.</item>
/// <item>The output: the float image, its 8-bit copy and the encoder's buffers, about 24 bytes per pixel.</item>
/// </list>
/// The larger of UNet and VAE counts (they run one after the other), plus the output. Measured on the tiny model
/// (CPU, float32): 256² and 512² images peaked at 0.29 and 0.92 GB above the loaded model; this gives 0.24 and 0.95 GB.
/// </summary>
internal static class GenerationMemoryEstimate
{
    /// <summary>Bytes needed to generate one <paramref name="height"/> × <paramref name="width"/> image with <paramref name="pipe"/>.</summary>
    public static long Bytes(StableDiffusionXLPipeline pipe, int height, int width, bool guidance)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        var unet = pipe.Unet.Config;
        var vae = pipe.Vae.Config;
        int factor = Math.Max(1, pipe.VaeScaleFactor);
        double latentPixels = (double)(height / factor) * (width / factor);
        double unetElements = 0, largest = 0;
        for (int i = 0; i < unet.BlockOutChannels.Count; i++)
        {
            double level = unet.BlockOutChannels[i] * latentPixels / Math.Pow(4, i);
            int layers = i < unet.LayersPerBlock.Count ? unet.LayersPerBlock[i] : 2;
            unetElements += level * (layers + 1);
            largest = Math.Max(largest, level);
        }
        unetElements += 25 * largest;
        double unetBytes = unetElements * (guidance ? 2 : 1) * TorchOptions.ElementSize(pipe.Unet.Placement.DType);

        int c0 = vae.BlockOutChannels.Count > 0 ? vae.BlockOutChannels[0] : 128;
        int c1 = vae.BlockOutChannels.Count > 1 ? vae.BlockOutChannels[1] : c0;
        double pixels = (double)height * width;
        double vaeBytes = pixels * (4.0 * c0 + 12.0 * c1) * TorchOptions.ElementSize(pipe.Vae.Placement.DType);

        double total = Math.Max(unetBytes, vaeBytes) + 24 * pixels;
        return total >= long.MaxValue ? long.MaxValue : (long)total;
    }
}
