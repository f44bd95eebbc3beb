using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>The tiny SDXL pipeline's 3-step call from given embeddings and latents (<c>pipe/base/*</c>).</summary>
public sealed class PipelineParityTests
{
    private readonly ITestOutputHelper _output;

    public PipelineParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ThreeStepCallFromEmbeddingsMatchesDiffusers()
    {
        var g = GoldenSet.Reference;
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        using var pe = g.Tensor("inputs/pipe_prompt_embeds");
        using var npe = g.Tensor("inputs/pipe_negative_prompt_embeds");
        using var ppe = g.Tensor("inputs/pipe_pooled_prompt_embeds");
        using var nppe = g.Tensor("inputs/pipe_negative_pooled_prompt_embeds");
        using var latents = g.Tensor("inputs/pipe_latents");
        StableDiffusionXLCallOptions Options(PipelineOutputType type) => new()
        {
            PromptEmbeds = pe, NegativePromptEmbeds = npe, PooledPromptEmbeds = ppe, NegativePooledPromptEmbeds = nppe,
            Latents = latents, NumInferenceSteps = 3, GuidanceScale = 5.0, OutputType = type,
        };

        using (var image = pipe.Generate(Options(PipelineOutputType.Image)))
        using (var expected = g.Tensor("pipe/base/image"))
            _output.WriteLine($"pipe/base/image: {TensorAssert.Close(image.Images, expected, "pipe/base/image")}");
        using (var latent = pipe.Generate(Options(PipelineOutputType.Latent)))
        using (var expected = g.Tensor("pipe/base/latents_final"))
            _output.WriteLine($"pipe/base/latents_final: {TensorAssert.Close(latent.Tensor, expected, "pipe/base/latents_final")}");

        var info = g.Node("pipeline", "base");
        Assert.Equal(info["scheduler_timesteps"]!.Items.Select(v => (float)v.AsDouble()).ToArray(), pipe.Scheduler.Timesteps);
        Assert.Equal(info["scheduler_sigmas"]!.Items.Select(v => (float)v.AsDouble()).ToArray(), pipe.Scheduler.Sigmas);
        Assert.Equal((float)info["init_noise_sigma"]!.AsDouble(), pipe.Scheduler.InitNoiseSigma);
        Assert.Equal(new long[] { 1, 64, 64, 3 }, info["image_shape"]!.Items.Select(v => v.AsInt64()).ToArray());
    }
}
