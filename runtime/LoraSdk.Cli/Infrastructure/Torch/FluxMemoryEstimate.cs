using System;
using LoraSdk.Diffusion.Pipelines;

namespace LoraSdk.Cli.Infrastructure.Torch;

/// <summary>
/// A deliberately simple upper-end estimate of the memory one Flux generation needs beyond the loaded weights, in the
/// spirit of <see cref="GenerationMemoryEstimate"/>: the transformer's working set over the joint sequence (image tokens
/// of 2×2 latent patches plus the T5 tokens; attention counted as linear in the tokens, libtorch's CPU attention being
/// the blocked kernel) — 32 × tokens × inner dim, covering the 4× MLP of a single block next to q/k/v, the attention
/// output and the residual streams —, the VAE decoder at full resolution (counted as for SDXL: dominated by the unfolded
/// 3×3 convolutions) and the output image; the larger of transformer and VAE plus the output.
/// </summary>
internal static class FluxMemoryEstimate
{
    /// <summary>Bytes needed to generate one <paramref name="height"/> × <paramref name="width"/> image with <paramref name="pipe"/>.</summary>
    public static long Bytes(FluxPipeline pipe, int height, int width, int maxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        int factor = Math.Max(1, pipe.VaeScaleFactor);
        double tokens = (double)(height / (2 * factor)) * (width / (2 * factor)) + maxSequenceLength;
        double transformerBytes = 32.0 * tokens * pipe.Transformer.Config.InnerDim * TorchOptions.ElementSize(pipe.Transformer.DType);

        var vae = pipe.Vae.Config;
        int c0 = vae.BlockOutChannels.Count > 0 ? vae.BlockOutChannels[0] : 128;
        int c1 = vae.BlockOutChannels.Count > 1 ? vae.BlockOutChannels[1] : c0;
        double pixels = (double)height * width;
        double vaeBytes = pixels * (4.0 * c0 + 12.0 * c1) * TorchOptions.ElementSize(pipe.Vae.Placement.DType);

        double total = Math.Max(transformerBytes, vaeBytes) + 24 * pixels;
        return total >= long.MaxValue ? long.MaxValue : (long)total;
    }
}
