using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>xUnit class fixture: tests/fixtures-flux/tiny-flux loaded once through FluxPipeline.FromPretrained (float32).</summary>
public sealed class FluxPipelineFixture : IDisposable
{
    /// <summary>The loaded pipeline.</summary>
    public FluxPipeline Pipeline { get; } = FluxPipeline.FromPretrained(RepoPaths.TinyFlux);

    /// <inheritdoc />
    public void Dispose() => Pipeline.Dispose();
}

/// <summary>
/// The tiny FluxPipeline against diffusers' <c>pipe/base/p0</c> and <c>pipe/base/p1</c> (64×64, 4 steps, guidance 3.5,
/// max_sequence_length 32): the seeded noise bitwise (TorchSharp's CPU generator is torch's), everything computed by
/// libtorch within 1e-4 relative (goldens from an Intel CPU; kernels differ by vendor), both step by step through the
/// pipeline's public pieces and through <see cref="FluxPipeline.Generate"/>.
/// </summary>
public sealed class FluxPipelineParityTests : IClassFixture<FluxPipelineFixture>
{
    private readonly FluxPipeline _pipe;
    private readonly ITestOutputHelper _output;

    public FluxPipelineParityTests(FluxPipelineFixture fixture, ITestOutputHelper output)
    {
        _pipe = fixture.Pipeline;
        _output = output;
    }

    [Theory]
    [InlineData("p0")]
    [InlineData("p1")]
    public void StepByStepMatchesDiffusers(string run)
    {
        var (prompt, seed) = Run(run);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        using var embeddings = _pipe.EncodePrompt(prompt, maxSequenceLength: 32);
        Close(embeddings.PromptEmbeds, run, "prompt_embeds");
        Close(embeddings.PooledPromptEmbeds, run, "pooled_prompt_embeds");
        TensorAssert.Equal(embeddings.TextIds, Golden(run, "text_ids"), "text_ids");

        Tensor latents = FluxPipeline.InitialNoise(seed, 1, 4, 8, 8);
        TensorAssert.Equal(latents, Golden(run, "init_latents"), "init_latents (generator stream)");
        Tensor imageIds = FluxPipeline.PrepareLatentImageIds(4, 4);
        TensorAssert.Equal(imageIds, Golden(run, "latent_image_ids"), "latent_image_ids");

        var scheduler = _pipe.Scheduler;
        scheduler.SetTimesteps(null, FlowMatchEulerDiscreteScheduler.PipelineSigmas(4), scheduler.CalculateShift(latents.shape[1]));
        scheduler.SetBeginIndex(0);
        Tensor guidance = full(new long[] { 1 }, 3.5f, ScalarType.Float32);
        for (int i = 0; i < 4; i++)
        {
            float t = scheduler.Timesteps[i];
            Tensor timestep = tensor(t, ScalarType.Float32).expand(1) / 1000;
            Tensor noisePred = _pipe.Transformer.Forward(latents, embeddings.PromptEmbeds, embeddings.PooledPromptEmbeds, timestep,
                imageIds, embeddings.TextIds, guidance);
            Close(noisePred, run, $"noise_pred_step{i}");
            latents = scheduler.Step(noisePred, t, latents);
            Close(latents, run, $"latents_step{i}");
        }
        Close(_pipe.DecodeLatents(latents, 64, 64), run, "image");
    }

    [Theory]
    [InlineData("p0")]
    [InlineData("p1")]
    public void GenerateFromTheSeedMatchesDiffusers(string run)
    {
        var (prompt, seed) = Run(run);
        var recorded = new List<Tensor>();
        var progress = new SynchronousProgress<PipelineProgress>();
        using var output = _pipe.Generate(new FluxCallOptions
        {
            Prompt = prompt, Height = 64, Width = 64, NumInferenceSteps = 4, GuidanceScale = 3.5, MaxSequenceLength = 32, Seed = seed,
            Progress = progress,
            CallbackOnStepEnd = (p, step, t, tensors) =>
            {
                recorded.Add(tensors["latents"].clone().DetachFromDisposeScope());
                return tensors;
            },
        });
        try
        {
            for (int i = 0; i < 4; i++) Close(recorded[i], run, $"latents_step{i}");
            Close(output.Images, run, "image");
            var timesteps = GoldenSet.Flux.Node("pipeline", "runs", "base", run, "scheduler_timesteps").Items.Select(v => (float)v.AsDouble());
            Assert.Equal(timesteps, progress.Reports.Select(r => r.Timestep));
            Assert.Equal(new[] { 1, 2, 3, 4 }, progress.Reports.Select(r => r.Step));
        }
        finally
        {
            foreach (var t in recorded) t.Dispose();
        }
    }

    [Fact]
    public void ExplicitPackedLatentsGiveTheSeededImage()
    {
        var (prompt, seed) = Run("p0");
        using var latents = GoldenSet.Flux.Tensor("pipe/base/p0/init_latents");
        using var fromLatents = _pipe.Generate(new FluxCallOptions
        {
            Prompt = prompt, Height = 64, Width = 64, NumInferenceSteps = 4, MaxSequenceLength = 32, Latents = latents,
        });
        using var fromSeed = _pipe.Generate(new FluxCallOptions
        {
            Prompt = prompt, Height = 64, Width = 64, NumInferenceSteps = 4, MaxSequenceLength = 32, Seed = seed,
        });
        Close(fromLatents.Images, "p0", "image");
        TensorAssert.Equal(fromLatents.Images, fromSeed.Images, "explicit latents = seeded noise");
    }

    [Fact]
    public void MaxSequenceLengthOver512IsRefusedBeforeAnythingRuns()
    {
        var hook = new RecordingScaleHook();
        _pipe.LoraScaleHook = hook;
        var progress = new SynchronousProgress<PipelineProgress>();
        int callbacks = 0;
        try
        {
            var e = Assert.Throws<PipelineArgumentException>(() => _pipe.Generate(new FluxCallOptions
            {
                Prompt = "a photo", Height = 64, Width = 64, NumInferenceSteps = 4, MaxSequenceLength = 513, Seed = 1,
                JointAttentionScale = 0.5, Progress = progress, CallbackOnStepEnd = (p, s, t, x) => { callbacks++; return x; },
            }));
            var golden = GoldenSet.Flux.Node("exceptions", "pipeline_max_sequence_length_over_512", "raised");
            Assert.Equal(golden["message"]!.AsString(), e.Message);
            Assert.Equal("max_sequence_length", e.Argument);
            Assert.Equal(LoraSdk.Core.LoraSdkErrorCategory.InvalidArgument, e.Category);
            Assert.Empty(hook.Events);
            Assert.Empty(progress.Reports);
            Assert.Equal(0, callbacks);
        }
        finally
        {
            _pipe.LoraScaleHook = null;
        }
    }

    [Fact]
    public void JointAttentionScaleReachesTextEncodersAndEveryTransformerCall()
    {
        var hook = new RecordingScaleHook();
        _pipe.LoraScaleHook = hook;
        try
        {
            using var output = _pipe.Generate(new FluxCallOptions
            {
                Prompt = "a photo", Height = 64, Width = 64, NumInferenceSteps = 2, MaxSequenceLength = 32, Seed = 1,
                JointAttentionScale = 0.5, OutputType = PipelineOutputType.Latent,
            });
            Assert.Equal(new long[] { 1, 16, 16 }, output.Tensor.shape);
            Assert.Equal(new[]
            {
                "+text_encoder 0.5", "+T5EncoderModel 0.5", "-T5EncoderModel 0.5", "-text_encoder 0.5",
                "+FluxTransformer2DModel 0.5", "-FluxTransformer2DModel 0.5", "+FluxTransformer2DModel 0.5", "-FluxTransformer2DModel 0.5",
            }, hook.Events);
        }
        finally
        {
            _pipe.LoraScaleHook = null;
        }
    }

    [Fact]
    public void ComponentsAreExposedUnderDiffusersNames()
    {
        Assert.Equal(new[] { "transformer", "vae", "text_encoder", "text_encoder_2" }, _pipe.Components.Keys);
        Assert.Same(_pipe.Transformer, _pipe.Components["transformer"]);
        Assert.Same(_pipe.TextEncoder, _pipe.Components["text_encoder"]);
        Assert.Same(_pipe.TextEncoder2, _pipe.Components["text_encoder_2"]);
        var attrs = GoldenSet.Flux.Node("tiny_flux", "pipeline_attributes");
        Assert.Equal(attrs["vae_scale_factor"]!.AsInt64(), _pipe.VaeScaleFactor);
        Assert.Equal(attrs["tokenizer_max_length"]!.AsInt64(), _pipe.TokenizerMaxLength);
        Assert.Equal(attrs["default_sample_size"]!.AsInt64(), _pipe.DefaultSampleSize);
    }

    private static (string Prompt, long Seed) Run(string run)
    {
        var r = GoldenSet.Flux.Node("pipeline", "runs", "base", run);
        return (r["prompt"]!.AsString(), r["seed"]!.AsInt64());
    }

    private static Tensor Golden(string run, string name) => GoldenSet.Flux.Tensor($"pipe/base/{run}/{name}");

    private void Close(Tensor actual, string run, string name)
    {
        using var expected = Golden(run, name);
        _output.WriteLine($"{run}/{name}: {TensorAssert.Close(actual, expected, $"{run}/{name}")}");
    }
}
