using System.Collections.Generic;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>FluxPipeline's <c>callback_on_step_end</c>: what it is given, and that its replacements take effect.</summary>
public sealed class FluxCallbackTests : IClassFixture<FluxPipelineFixture>
{
    private readonly FluxPipeline _pipe;

    public FluxCallbackTests(FluxPipelineFixture fixture) => _pipe = fixture.Pipeline;

    [Fact]
    public void CallbackSeesThePipelineStepsAndRequestedTensorsAndItsLatentsReplaceTheSchedulers()
    {
        var seen = new List<string>();
        using var output = _pipe.Generate(new FluxCallOptions
        {
            Prompt = "a fox", Height = 64, Width = 64, NumInferenceSteps = 3, MaxSequenceLength = 32, Seed = 7,
            OutputType = PipelineOutputType.Latent,
            CallbackOnStepEndTensorInputs = new[] { "latents", "prompt_embeds" },
            CallbackOnStepEnd = (p, step, t, tensors) =>
            {
                Assert.Same(_pipe, p);
                seen.Add($"{step}:{t}:{string.Join(",", tensors["latents"].shape)}:{string.Join(",", tensors["prompt_embeds"].shape)}");
                if (step < 2) return null;
                var zero = zeros_like(tensors["latents"]); // in the step's dispose scope; the pipeline copies it
                return new Dictionary<string, Tensor> { ["latents"] = zero };
            },
        });
        Assert.Equal(3, seen.Count);
        Assert.StartsWith("0:1000:1,16,16:1,32,32", seen[0]);
        Assert.Equal(0.0, output.Tensor.abs().max().item<float>());
    }

    [Fact]
    public void UnknownCallbackTensorIsRefused()
    {
        var e = Assert.Throws<PipelineArgumentException>(() => _pipe.Generate(new FluxCallOptions
        {
            Prompt = "a fox", Height = 64, Width = 64, NumInferenceSteps = 1, MaxSequenceLength = 32,
            CallbackOnStepEndTensorInputs = new[] { "add_time_ids" },
        }));
        Assert.Equal("`callback_on_step_end_tensor_inputs` has to be in [latents, prompt_embeds], but found [add_time_ids]", e.Message);
    }
}
