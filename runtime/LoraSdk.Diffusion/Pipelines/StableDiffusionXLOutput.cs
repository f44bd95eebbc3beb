using System;
using LoraSdk.Diffusion.Imaging;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>The result of a pipeline call; disposing it disposes the tensor.</summary>
public sealed class StableDiffusionXLOutput : IDisposable
{
    /// <summary>Creates the output (takes ownership of <paramref name="tensor"/>).</summary>
    public StableDiffusionXLOutput(Tensor tensor, PipelineOutputType type)
    {
        Tensor = tensor;
        Type = type;
    }

    /// <summary>Images (B, H, W, 3) float32 in [0, 1] on the CPU, or latents (B, C, h, w), per <see cref="Type"/>.</summary>
    public Tensor Tensor { get; }

    /// <summary>What <see cref="Tensor"/> holds.</summary>
    public PipelineOutputType Type { get; }

    /// <summary>The images (throws when the output holds latents).</summary>
    public Tensor Images => Type == PipelineOutputType.Image ? Tensor : throw new InvalidOperationException("the output holds latents (OutputType.Latent)");

    /// <summary>Number of images (batch size).</summary>
    public int Count => (int)Tensor.shape[0];

    /// <summary>
    /// Writes image <paramref name="index"/> as a PNG file (8-bit RGB, rounded like diffusers' <c>numpy_to_pil</c>), all or
    /// nothing: a failed write (<see cref="LoraSdk.IO.FileWriteException"/>) leaves an existing file unchanged.
    /// </summary>
    public void SavePng(string path, int index = 0) => ImageConversion.SavePng(Images, path, index);

    /// <inheritdoc />
    public void Dispose() => Tensor.Dispose();
}
