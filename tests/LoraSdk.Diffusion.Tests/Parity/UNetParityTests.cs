using System.IO;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>The tiny SDXL UNet against diffusers' <c>unet/base</c> output.</summary>
public sealed class UNetParityTests
{
    private readonly ITestOutputHelper _output;

    public UNetParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void BaseUNetOutputMatchesDiffusers()
    {
        var g = GoldenSet.Reference;
        using var unet = ComponentLoader.LoadUNet(Path.Combine(RepoPaths.TinySdxl, "unet"));
        using var noGrad = no_grad();
        using var sample = g.Tensor("inputs/sample");
        using var timestep = g.Tensor("inputs/timestep");
        using var context = g.Tensor("inputs/encoder_hidden_states");
        using var textEmbeds = g.Tensor("inputs/text_embeds");
        using var timeIds = g.Tensor("inputs/time_ids");
        using var expected = g.Tensor("unet/base");
        using var actual = unet.Forward(sample, timestep, context, textEmbeds, timeIds);
        var c = TensorAssert.Close(actual, expected, "unet/base");
        _output.WriteLine($"unet/base: {c}");
    }
}
