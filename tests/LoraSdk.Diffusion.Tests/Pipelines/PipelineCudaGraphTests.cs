using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Gpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>
/// <see cref="StableDiffusionXLCallOptions.UseCudaGraphs"/> on a CPU-only machine: without CUDA the call fails at once
/// with <see cref="CudaGraphErrorKind.CudaUnavailable"/>; with the CPU stand-in backend (<see cref="EmulatedGraphBackend"/>,
/// which replays by running the captured UNet forward again) the cache logic runs with real numbers: one capture per
/// step shape reused across calls (one shared pool), LoRA weights, hotswaps and step-end scale schedules without
/// recapture, and a reported recapture when a LoRA change alters the plan. Parity: the graph path equals the eager
/// pipeline under the same LoRA pin bit for bit (same kernels), and diffusers' goldens within 1e-4 relative; against the
/// eager pipeline without a pin the LoRA scale is applied to the rank-r hidden state instead of as a GEMM alpha
/// (≤ 1e-5 relative stated, the run prints the numbers).
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class PipelineCudaGraphTests
{
    private const double UnpinnedTolerance = 1e-5;
    private readonly ITestOutputHelper _output;

    public PipelineCudaGraphTests(ITestOutputHelper output) => _output = output;

    private sealed class Inputs : IDisposable
    {
        private readonly List<Tensor> _tensors = new();

        public Inputs()
        {
            var g = GoldenSet.Reference;
            Pe = Keep(g.Tensor("inputs/pipe_prompt_embeds"));
            Npe = Keep(g.Tensor("inputs/pipe_negative_prompt_embeds"));
            Ppe = Keep(g.Tensor("inputs/pipe_pooled_prompt_embeds"));
            Nppe = Keep(g.Tensor("inputs/pipe_negative_pooled_prompt_embeds"));
            Latents = Keep(g.Tensor("inputs/pipe_latents"));
        }

        public Tensor Pe { get; }
        public Tensor Npe { get; }
        public Tensor Ppe { get; }
        public Tensor Nppe { get; }
        public Tensor Latents { get; }

        public StableDiffusionXLCallOptions Options(bool graphs, PipelineOutputType type = PipelineOutputType.Image, StepEndCallback? callback = null,
            Tensor? latents = null, int? size = null, IProgress<PipelineProgress>? progress = null) => new()
        {
            PromptEmbeds = Pe, NegativePromptEmbeds = Npe, PooledPromptEmbeds = Ppe, NegativePooledPromptEmbeds = Nppe,
            Latents = latents ?? Latents, NumInferenceSteps = 3, GuidanceScale = 5.0, OutputType = type, CallbackOnStepEnd = callback,
            UseCudaGraphs = graphs, Height = size, Width = size, Progress = progress,
        };

        private Tensor Keep(Tensor t)
        {
            _tensors.Add(t);
            return t;
        }

        public void Dispose()
        {
            foreach (var t in _tensors) t.Dispose();
        }
    }

    private static StableDiffusionXLPipeline Emulated(out EmulatedGraphBackend backend)
    {
        var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        backend = new EmulatedGraphBackend();
        pipe.UNetGraphs.CaptureOverride = backend.Capture;
        pipe.UNetGraphs.WarmupRuns = 1;
        return pipe;
    }

    private static Tensor Run(StableDiffusionXLPipeline pipe, StableDiffusionXLCallOptions options)
    {
        using var output = pipe.Generate(options);
        return (options.OutputType == PipelineOutputType.Latent ? output.Tensor : output.Images).clone();
    }

    private void Golden(Tensor actual, string key)
    {
        using var expected = GoldenSet.Reference.Tensor(key);
        _output.WriteLine($"graphs vs {key}: {TensorAssert.Close(actual, expected, key)}");
    }

    [Fact]
    public void Without_cuda_the_option_fails_at_once_with_CudaUnavailable()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        using var inputs = new Inputs();
        var progress = new SynchronousProgress<PipelineProgress>();
        var e = Assert.Throws<CudaGraphException>(() => pipe.Generate(inputs.Options(graphs: true, progress: progress)));
        Assert.Equal(CudaGraphErrorKind.CudaUnavailable, e.Kind);
        Assert.Equal(LoraSdk.Core.LoraSdkErrorCategory.Unsupported, e.Category);
        Assert.Contains("UseCudaGraphs", e.Message);
        Assert.Empty(progress.Reports);
        Assert.Equal(0, pipe.UNetGraphs.Count);
        Assert.False(pipe.HasLora);
        _output.WriteLine(e.Message);
    }

    [Fact]
    public void Graph_steps_match_the_goldens_and_the_pinned_eager_pipeline_and_reuse_one_capture_across_calls_and_a_schedule()
    {
        using var pipe = Emulated(out var backend);
        using var reference = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);  // eager, never pinned
        using var inputs = new Inputs();
        using (var image = Run(pipe, inputs.Options(graphs: true)))
        {
            Golden(image, "pipe/base/image");
            using var eager = Run(reference, inputs.Options(graphs: false));
            TensorAssert.Equal(image, eager, "base: graphs vs eager");
        }
        using (var again = Run(pipe, inputs.Options(graphs: true)))
            Golden(again, "pipe/base/image");
        Assert.Equal(1, pipe.UNetGraphs.Captures);
        Assert.Equal(6, pipe.UNetGraphs.Replays);
        Assert.Equal(1, pipe.UNetGraphs.Count);

        // Loading an adapter changes the plan: the cache's pin is released and the next call recaptures, reporting why.
        string loraA = Path.Combine(RepoPaths.Loras, "lora_a.safetensors");
        pipe.LoadLoraWeights(loraA, "a");
        reference.LoadLoraWeights(loraA, "a");
        using (var image = Run(pipe, inputs.Options(graphs: true)))
            Golden(image, "pipe/lora_a/image");
        Assert.Equal(2, pipe.UNetGraphs.Captures);
        Assert.Equal(1, pipe.UNetGraphs.Recaptures);
        Assert.Contains("adds adapter 'a'", pipe.UNetGraphs.LastRecaptureReason);
        using (var latent = Run(pipe, inputs.Options(graphs: true, PipelineOutputType.Latent)))
            Golden(latent, "pipe/lora_a/latents_final");

        // diffusers' scale scheduling from callback_on_step_end: each SetAdapters writes the device scales in place.
        double[] scales = { 1.5, (double)0.7f, 0.2, 0.2 };
        StepEndCallback Schedule(StableDiffusionXLPipeline target) => (p, step, t, kw) =>
        {
            target.SetAdapters(new[] { "a" }, new[] { scales[step + 1] });
            return kw;
        };
        pipe.SetAdapters(new[] { "a" }, new[] { scales[0] });
        using var scheduled = Run(pipe, inputs.Options(graphs: true, callback: Schedule(pipe)));
        Golden(scheduled, "pipe/lora_a_scale_schedule/image");
        Assert.Equal(2, pipe.UNetGraphs.Captures);
        Assert.Equal(1, pipe.UNetGraphs.Recaptures);
        Assert.Equal(1, pipe.UNetGraphs.Count);

        // The same call eagerly on the same pipeline (the cache's pin is active, so the same kernels): bit for bit; on
        // the never-pinned pipeline: close.
        Assert.True(pipe.Lora["unet"].IsGraphPinned);
        pipe.SetAdapters(new[] { "a" }, new[] { scales[0] });
        using (var eagerPinned = Run(pipe, inputs.Options(graphs: false, callback: Schedule(pipe))))
            TensorAssert.Equal(scheduled, eagerPinned, "schedule: graphs vs pinned eager");
        reference.SetAdapters(new[] { "a" }, new[] { scales[0] });
        using (var eager = Run(reference, inputs.Options(graphs: false, callback: Schedule(reference))))
            _output.WriteLine($"schedule: graphs vs unpinned eager: {TensorAssert.Close(scheduled, eager, "schedule", UnpinnedTolerance)}");
        Assert.Equal(2, pipe.UNetGraphs.Captures);
        Assert.Equal(new[] { "capture_begin(0,0)", "capture_begin(0,0)" }, backend.Calls.Where(c => c.StartsWith("capture_begin", StringComparison.Ordinal)));
        _output.WriteLine($"graphs: {string.Join("; ", pipe.UNetGraphs.Keys)}");
    }

    [Fact]
    public void Shapes_share_one_pool_hotswaps_and_runtime_scales_need_no_recapture_and_a_new_adapter_mid_run_recaptures()
    {
        using var pipe = Emulated(out var backend);
        using var reference = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxl);
        using var inputs = new Inputs();
        void Both(Action<StableDiffusionXLPipeline> change)
        {
            change(pipe);
            change(reference);
        }
        Both(p => p.Lora.EnableLoraHotswap(8));
        Both(p => p.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "a"));
        Both(p => p.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_d.safetensors"), "d"));
        Both(p => p.SetAdapters(new[] { "a", "d" }, new[] { 0.7, 0.8 }));
        using var largeLatents = randn(new long[] { 1, 4, 48, 48 }, generator: new TorchSharp.torch.Generator(5));
        using var small = Run(pipe, inputs.Options(graphs: true, PipelineOutputType.Latent));
        using var large = Run(pipe, inputs.Options(graphs: true, PipelineOutputType.Latent, latents: largeLatents, size: 96));
        Assert.Equal(2, pipe.UNetGraphs.Count);
        Assert.Equal(2, pipe.UNetGraphs.Captures);
        // The second shape captures into the first graph's pool.
        Assert.Equal(new[] { "capture_begin(0,0)", "capture_begin(5,0)" }, backend.Calls.Where(c => c.StartsWith("capture_begin", StringComparison.Ordinal)));
        using (var eagerSmall = Run(pipe, inputs.Options(graphs: false, PipelineOutputType.Latent)))
        using (var eagerLarge = Run(pipe, inputs.Options(graphs: false, PipelineOutputType.Latent, latents: largeLatents, size: 96)))
        {
            TensorAssert.Equal(small, eagerSmall, "two adapters, 64 px: graphs vs pinned eager");
            TensorAssert.Equal(large, eagerLarge, "two adapters, 96 px: graphs vs pinned eager");
        }
        using (var eager = Run(reference, inputs.Options(graphs: false, PipelineOutputType.Latent)))
            _output.WriteLine($"two adapters: graphs vs unpinned eager: {TensorAssert.Close(small, eager, "two adapters", UnpinnedTolerance)}");

        // A hotswap between calls copies in place (lora_c is rank 2, padded into the rank-8 storage of 'a'); the
        // runtime scale is a device value set for the loop.
        Both(p => p.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_c.safetensors"), "a", hotswap: true));
        StableDiffusionXLCallOptions Scaled(bool graphs, StepEndCallback? callback = null) => new()
        {
            PromptEmbeds = inputs.Pe, NegativePromptEmbeds = inputs.Npe, PooledPromptEmbeds = inputs.Ppe, NegativePooledPromptEmbeds = inputs.Nppe,
            Latents = inputs.Latents, NumInferenceSteps = 3, GuidanceScale = 5.0, OutputType = PipelineOutputType.Latent,
            CrossAttentionScale = 0.6, UseCudaGraphs = graphs, CallbackOnStepEnd = callback,
        };
        using var swapped = Run(pipe, Scaled(graphs: true));
        Assert.Equal(2, pipe.UNetGraphs.Captures);
        Assert.Equal(0, pipe.UNetGraphs.Recaptures);
        Assert.Equal(1.0, pipe.Lora["unet"].RuntimeScale);
        using (var eager = Run(reference, Scaled(graphs: false)))
            _output.WriteLine($"after hotswap, runtime scale 0.6: graphs vs unpinned eager: {TensorAssert.Close(swapped, eager, "hotswap", UnpinnedTolerance)}");

        // A callback that keeps only 'a' active stays within the pin ('d' runs at scale 0): no recapture.
        StepEndCallback Narrow(StableDiffusionXLPipeline target) => (p, step, t, kw) =>
        {
            if (step == 0) target.SetAdapters(new[] { "a" }, new[] { 1.1 });
            return kw;
        };
        using var narrowed = Run(pipe, Scaled(graphs: true, Narrow(pipe)));
        Assert.Equal(0, pipe.UNetGraphs.Recaptures);
        using (var eager = Run(reference, Scaled(graphs: false, Narrow(reference))))
            _output.WriteLine($"callback narrows to 'a': graphs vs unpinned eager: {TensorAssert.Close(narrowed, eager, "narrow", UnpinnedTolerance)}");

        // A callback that loads a new adapter mid-run releases the pin; the next step pins again and recaptures —
        // reported, never a replay of the old plan.
        Both(p => p.SetAdapters(new[] { "a", "d" }, new[] { 0.7, 0.8 }));
        string loraB = Path.Combine(RepoPaths.Loras, "lora_b.safetensors");
        StepEndCallback AddB(StableDiffusionXLPipeline target) => (p, step, t, kw) =>
        {
            if (step == 0) target.LoadLoraWeights(loraB, "b");
            return kw;
        };
        using var withB = Run(pipe, Scaled(graphs: true, AddB(pipe)));
        Assert.Equal(3, pipe.UNetGraphs.Captures);
        Assert.Equal(1, pipe.UNetGraphs.Recaptures);
        Assert.Contains("adds adapter 'b'", pipe.UNetGraphs.LastRecaptureReason);
        Assert.Equal(1, pipe.UNetGraphs.Count);  // the other shape's graph went with the released pin
        using (var eager = Run(reference, Scaled(graphs: false, AddB(reference))))
            _output.WriteLine($"callback loads 'b' mid-run: graphs vs unpinned eager: {TensorAssert.Close(withB, eager, "mid-run load", UnpinnedTolerance)}");

        pipe.UNetGraphs.Clear();
        Assert.Equal(0, pipe.UNetGraphs.Count);
        Assert.False(pipe.Lora["unet"].IsGraphPinned);
        Assert.Equal(0, backend.LiveGraphs);
    }
}
