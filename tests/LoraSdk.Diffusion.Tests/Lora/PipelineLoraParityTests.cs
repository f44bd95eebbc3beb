using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The full 3-step pipeline with LoRA (<c>pipe/lora_a/*</c>) and the Diffusers docs "scale scheduling" pattern
/// (<c>set_adapters</c> from <c>callback_on_step_end</c>, <c>pipe/lora_a_scale_schedule/image</c>), the engine attached
/// to the host's pipeline the way the pipeline integration does it. ≤ 1e-4 relative.
/// </summary>
public sealed class PipelineLoraParityTests
{
    private readonly ITestOutputHelper _output;

    public PipelineLoraParityTests(ITestOutputHelper output) => _output = output;

    private sealed class Hook : ILoraScaleHook
    {
        private readonly LoraAdapterManager _manager;

        public Hook(LoraAdapterManager manager) => _manager = manager;

        public IDisposable Scale(TorchSharp.torch.nn.Module component, double scale) => _manager.ApplyRuntimeScale(component, scale);
    }

    private static LoraAdapterManager Attach(StableDiffusionXLPipeline pipe)
    {
        var manager = new LoraAdapterManager(new[]
        {
            LoraPipelineHarness.CreateUnetComponent(pipe.Unet),
            new LoraComponent(LoraComponents.TextEncoder, pipe.TextEncoder!, new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder }),
            new LoraComponent(LoraComponents.TextEncoder2, pipe.TextEncoder2!, new LoraComponentOptions
            {
                Kind = LoraComponentKind.TextEncoder,
                SavedModulePathMap = path => "text_model." + path,
            }),
        }, LoraPipelineHarness.LoadOptions);
        pipe.LoraScaleHook = new Hook(manager);
        return manager;
    }

    private static StableDiffusionXLCallOptions Options(GoldenInputs i, PipelineOutputType type, StepEndCallback? callback = null) => new()
    {
        PromptEmbeds = i.Pe, NegativePromptEmbeds = i.Npe, PooledPromptEmbeds = i.Ppe, NegativePooledPromptEmbeds = i.Nppe,
        Latents = i.Latents, NumInferenceSteps = 3, GuidanceScale = 5.0, OutputType = type, CallbackOnStepEnd = callback,
    };

    private sealed class GoldenInputs : IDisposable
    {
        public Tensor Pe { get; } = GoldenSet.Reference.Tensor("inputs/pipe_prompt_embeds");
        public Tensor Npe { get; } = GoldenSet.Reference.Tensor("inputs/pipe_negative_prompt_embeds");
        public Tensor Ppe { get; } = GoldenSet.Reference.Tensor("inputs/pipe_pooled_prompt_embeds");
        public Tensor Nppe { get; } = GoldenSet.Reference.Tensor("inputs/pipe_negative_pooled_prompt_embeds");
        public Tensor Latents { get; } = GoldenSet.Reference.Tensor("inputs/pipe_latents");

        public void Dispose()
        {
            foreach (var t in new[] { Pe, Npe, Ppe, Nppe, Latents }) t.Dispose();
        }
    }

    [Fact]
    public void PipelineWithLoraAMatchesDiffusers()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        var manager = Attach(pipe);
        manager.LoadLoraWeights(LoraPipelineHarness.LoraPath("lora_a"), "a");
        using var inputs = new GoldenInputs();
        using (var image = pipe.Generate(Options(inputs, PipelineOutputType.Image)))
        using (var expected = GoldenSet.Reference.Tensor("pipe/lora_a/image"))
            _output.WriteLine($"pipe/lora_a/image: {TensorAssert.Close(image.Images, expected, "pipe/lora_a/image")}");
        using (var latent = pipe.Generate(Options(inputs, PipelineOutputType.Latent)))
        using (var expected = GoldenSet.Reference.Tensor("pipe/lora_a/latents_final"))
            _output.WriteLine($"pipe/lora_a/latents_final: {TensorAssert.Close(latent.Tensor, expected, "pipe/lora_a/latents_final")}");
        manager.UnloadLoraWeights();
    }

    [Fact]
    public void ScaleSchedulingFromTheStepCallbackMatchesDiffusers()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        var manager = Attach(pipe);
        manager.LoadLoraWeights(LoraPipelineHarness.LoraPath("lora_a"), "a");
        var node = GoldenSet.Reference.Node("pipeline", "lora_a_scale_schedule");
        var scales = node["lora_scales"]!.Items.Select(v => v.AsDouble()).ToArray();
        var log = new List<(int Step, float Timestep, double Next)>();
        manager.SetAdapters("a", scales[0]);
        using var inputs = new GoldenInputs();
        IDictionary<string, Tensor>? Callback(StableDiffusionXLPipeline p, int step, float t, IDictionary<string, Tensor> kw)
        {
            manager.SetAdapters("a", scales[step + 1]);
            log.Add((step, t, scales[step + 1]));
            return kw;
        }
        using (var image = pipe.Generate(Options(inputs, PipelineOutputType.Image, Callback)))
        using (var expected = GoldenSet.Reference.Tensor(node["image_key"]!.AsString()))
            _output.WriteLine($"pipe/lora_a_scale_schedule/image: {TensorAssert.Close(image.Images, expected, "pipe/lora_a_scale_schedule/image")}");
        var expectedLog = node["callback_log"]!.Items.Select(e => ((int)e["step"]!.AsInt64(), (float)e["timestep"]!.AsDouble(), e["set_scale_for_next_step"]!.AsDouble())).ToList();
        Assert.Equal(expectedLog, log);
        manager.UnloadLoraWeights();
    }
}
