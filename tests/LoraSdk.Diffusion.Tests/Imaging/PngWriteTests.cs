using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Imaging;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Imaging;

/// <summary>PNG output is written all or nothing: a failed save keeps the previous image intact.</summary>
public sealed class PngWriteTests
{
    [Fact]
    public void SavePngReplacesAnExistingImageCompletely()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "x.png");
        using var black = zeros(1, 16, 8, 3);
        using var white = ones(1, 16, 8, 3);
        ImageConversion.SavePng(black, path);
        ImageConversion.SavePng(white, path);
        using var loaded = ImageConversion.LoadForVae(path);
        Assert.Equal(new long[] { 1, 3, 16, 8 }, loaded.shape);
        Assert.Equal(1.0f, loaded.min().item<float>());
        Assert.Equal(new[] { "x.png" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AFailedSaveLeavesThePreviousImage()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "x.png");
        using var image = zeros(1, 8, 8, 3);
        ImageConversion.SavePng(image, path);
        byte[] before = File.ReadAllBytes(path);
        string blocker = Path.Combine(temp.Path, "blocker");
        File.WriteAllText(blocker, "a file where a folder must be");
        Assert.Throws<FileWriteException>(() => ImageConversion.SavePng(image, Path.Combine(blocker, "y.png")));
        var directory = Assert.Throws<FileWriteException>(() => ImageConversion.SavePng(image, temp.Path));
        Assert.Equal($"{temp.Path}: is a directory; expected a file path", directory.Message);
        using var bad = zeros(1, 8, 8, 4);
        Assert.Throws<System.ArgumentException>(() => ImageConversion.SavePng(bad, path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "blocker", "x.png" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).OrderBy(n => n));
    }
}
