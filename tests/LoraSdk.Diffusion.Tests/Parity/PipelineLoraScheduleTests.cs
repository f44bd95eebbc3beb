using System.IO;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>
/// The tiny-sdxl 3-step pipeline with lora_a (<c>pipe/lora_a/*</c>) and the Diffusers "scale scheduling" pattern
/// (<c>pipe/lora_a_scale_schedule/image</c>): <c>set_adapters("a", 1.5)</c>, then a step-end callback that sets the
/// next step's scale (0.7 in float32, then 0.2).
/// </summary>
public sealed class PipelineLoraScheduleTests
{
    private readonly ITestOutputHelper _output;

    public PipelineLoraScheduleTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void LoraAndScaleScheduleMatchDiffusers()
    {
        var g = GoldenSet.Reference;
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        var lora = pipe.Lora;
        lora.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "a");
        using var pe = g.Tensor("inputs/pipe_prompt_embeds");
        using var npe = g.Tensor("inputs/pipe_negative_prompt_embeds");
        using var ppe = g.Tensor("inputs/pipe_pooled_prompt_embeds");
        using var nppe = g.Tensor("inputs/pipe_negative_pooled_prompt_embeds");
        using var latents = g.Tensor("inputs/pipe_latents");
        StableDiffusionXLCallOptions Options(PipelineOutputType type, StepEndCallback? callback = null) => new()
        {
            PromptEmbeds = pe, NegativePromptEmbeds = npe, PooledPromptEmbeds = ppe, NegativePooledPromptEmbeds = nppe,
            Latents = latents, NumInferenceSteps = 3, GuidanceScale = 5.0, OutputType = type, CallbackOnStepEnd = callback,
        };

        using (var image = pipe.Generate(Options(PipelineOutputType.Image)))
            Check(image.Images, "pipe/lora_a/image");
        using (var latent = pipe.Generate(Options(PipelineOutputType.Latent)))
            Check(latent.Tensor, "pipe/lora_a/latents_final");

        // lora_scales = torch.linspace(1.5, 0.7, 2).tolist() + [0.2] * 2
        double[] scales = { 1.5, (double)0.7f, 0.2, 0.2 };
        lora.SetAdapters(new[] { "a" }, new[] { scales[0] });
        var seen = new System.Collections.Generic.List<int>();
        using (var scheduled = pipe.Generate(Options(PipelineOutputType.Image, (p, step, t, kw) =>
               {
                   seen.Add(step);
                   lora.SetAdapters(new[] { "a" }, new[] { scales[step + 1] });
                   return kw;
               })))
            Check(scheduled.Images, "pipe/lora_a_scale_schedule/image");
        Assert.Equal(new[] { 0, 1, 2 }, seen);
        lora.UnloadLoraWeights();
    }

    private void Check(Tensor actual, string key)
    {
        using var expected = GoldenSet.Reference.Tensor(key);
        _output.WriteLine($"{key}: {TensorAssert.Close(actual, expected, key)}");
    }
}
