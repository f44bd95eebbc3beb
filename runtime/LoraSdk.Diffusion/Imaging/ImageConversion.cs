using System;
using LoraSdk.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Imaging;

/// <summary>Conversions between image tensors and ImageSharp images / PNG files.</summary>
public static class ImageConversion
{
    /// <summary>
    /// Converts image <paramref name="index"/> of a (B, H, W, 3) tensor in [0, 1] to an 8-bit RGB image:
    /// <c>round(x · 255)</c> (half to even, like numpy), clamped to [0, 255].
    /// </summary>
    public static Image<Rgb24> ToImage(Tensor imagesNhwc, int index = 0)
    {
        if (imagesNhwc.Dimensions != 4 || imagesNhwc.shape[3] != 3)
            throw new ArgumentException("expected a (B, H, W, 3) image tensor", nameof(imagesNhwc));
        if (index < 0 || index >= imagesNhwc.shape[0]) throw new ArgumentOutOfRangeException(nameof(index));
        int height = (int)imagesNhwc.shape[1], width = (int)imagesNhwc.shape[2];
        byte[] bytes;
        using (var scope = NewDisposeScope())
        {
            var img = imagesNhwc[index].to(CPU).to_type(ScalarType.Float32);
            var quantized = (img * 255f).round().clamp(0, 255).to_type(ScalarType.Byte).contiguous();
            bytes = quantized.data<byte>().ToArray();
        }
        return Image.LoadPixelData<Rgb24>(bytes, width, height);
    }

    /// <summary>
    /// Writes image <paramref name="index"/> of a (B, H, W, 3) [0, 1] tensor as a PNG file, all or nothing
    /// (<see cref="AtomicFile"/>): a failed write leaves an existing file at <paramref name="path"/> unchanged.
    /// </summary>
    /// <exception cref="FileWriteException">The path is a directory or the file cannot be written.</exception>
    public static void SavePng(Tensor imagesNhwc, string path, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var image = ToImage(imagesNhwc, index);
        AtomicFile.Write(path, stream => image.SaveAsPng(stream));
    }

    /// <summary>Loads an image file as a (1, 3, H, W) float32 tensor in [-1, 1] (the VAE's input range).</summary>
    public static Tensor LoadForVae(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        return FromImage(image);
    }

    /// <summary>Converts an RGB image to a (1, 3, H, W) float32 tensor in [-1, 1].</summary>
    public static Tensor FromImage(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        using var scope = NewDisposeScope();
        var t = tensor(bytes, new long[] { 1, image.Height, image.Width, 3 }).to_type(ScalarType.Float32);
        return (t.permute(0, 3, 1, 2) / 255f * 2f - 1f).contiguous().MoveToOuterDisposeScope();
    }
}
