using System.IO;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Models;

/// <summary>Sanity of the VAE encoder path (no encoder goldens exist): shapes, determinism, sampling rule, decoder round shape.</summary>
public sealed class VaeTests
{
    [Fact]
    public void EncodeGivesLatentMomentsAndSamplesFollowDiffusersRule()
    {
        using var vae = ComponentLoader.LoadVae(Path.Combine(RepoPaths.TinySdxl, "vae"));
        using var noGrad = no_grad();
        using var generator = new Generator(0).manual_seed(3);
        using var image = rand(new long[] { 1, 3, 64, 64 }, generator: generator) * 2 - 1;
        using var dist = vae.Encode(image);
        Assert.Equal(new long[] { 1, 4, 32, 32 }, dist.Mean.shape);
        Assert.False(dist.Mean.isnan().any().item<bool>());
        Assert.True(dist.LogVar.max().item<float>() <= 20f && dist.LogVar.min().item<float>() >= -30f);

        using var again = vae.Encode(image);
        TensorAssert.Equal(again.Mean, dist.Mean, "deterministic encode");

        using var g1 = new Generator(0).manual_seed(11);
        using var sample = dist.Sample(g1);
        using var g2 = new Generator(0).manual_seed(11);
        using var noise = randn(new long[] { 1, 4, 32, 32 }, generator: g2);
        using var expected = dist.Mean + dist.Std * noise;
        TensorAssert.Equal(sample, expected, "sample = mean + std * randn");

        using var decoded = vae.Decode(dist.Mean);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, decoded.shape);
    }
}
