using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>TorchSharp's CPU generator against the recorded <c>torch.Generator().manual_seed(S)</c> + <c>torch.randn</c> probes.</summary>
public sealed class RngParityTests
{
    [Theory]
    [InlineData("rng/randn_5_seed0", 0L, new long[] { 5 })]
    [InlineData("rng/randn_1x4x8x8_seed42", 42L, new long[] { 1, 4, 8, 8 })]
    [InlineData("latents_init/seed_1000", 1000L, new long[] { 1, 4, 32, 32 })]
    [InlineData("latents_init/seed_1001", 1001L, new long[] { 1, 4, 32, 32 })]
    public void SeededRandnIsBitwiseTorchs(string key, long seed, long[] shape)
    {
        using var expected = GoldenSet.Prompt.Tensor(key);
        using var actual = StableDiffusionXLPipeline.InitialNoise(seed, shape);
        TensorAssert.Equal(actual, expected, key);
    }
}
