using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// The full FluxPipeline with LoRAs against diffusers' <c>pipe/&lt;condition&gt;/p&lt;i&gt;/*</c> (README 3.4: 64×64, 4 steps,
/// guidance 3.5, max_sequence_length 32) for every condition × prompt: from the seed and from the recorded packed
/// latents through <see cref="FluxPipeline.Generate"/> (every step's latents from the step callback, the image), and
/// step by step through the public pieces (prompt embeddings with the text-encoder LoRA scale, every step's noise
/// prediction). The scale schedule changes the adapter weight from the step callback (1.5, 0.7, 0.2, 0.2).
/// Tolerance 1e-4 relative (float32; goldens from an Intel CPU).
/// </summary>
public sealed class FluxLoraPipelineParityTests
{
    private static readonly double[] Schedule = { 1.5, 0.7, 0.2, 0.2 };
    private readonly ITestOutputHelper _output;

    public FluxLoraPipelineParityTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Runs() => new[]
    {
        new object[] { "flux_lora_a", "p0" }, new object[] { "flux_lora_a", "p1" },
        new object[] { "flux_lora_a_scale_0.5", "p0" }, new object[] { "flux_lora_a_scale_0.5", "p1" },
        new object[] { "ab_0.7_0.8", "p0" }, new object[] { "ab_0.7_0.8", "p1" },
        new object[] { "flux_lora_a_scale_schedule", "p0" },
    };

    /// <summary>The condition's setup on a fresh pipeline (README 3.4 table).</summary>
    private static FluxLoraHarness Setup(string condition)
    {
        var p = new FluxLoraHarness();
        p.Load("flux_lora_a", "a");
        if (condition == "ab_0.7_0.8")
        {
            p.Load("flux_lora_b", "b");
            p.Pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
        }
        if (condition == "flux_lora_a_scale_schedule") p.Pipe.SetAdapters(new[] { "a" }, new[] { Schedule[0] });
        return p;
    }

    private static double? Scale(string condition) => condition == "flux_lora_a_scale_0.5" ? 0.5 : null;

    private static (string Prompt, long Seed) Run(string condition, string run)
    {
        var r = GoldenSet.Flux.Node("pipeline", "runs", condition, run);
        return (r["prompt"]!.AsString(), r["seed"]!.AsInt64());
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void GenerateFromTheSeedMatchesDiffusers(string condition, string run) => Generate(condition, run, fromLatents: false);

    [Theory]
    [MemberData(nameof(Runs))]
    public void GenerateFromExplicitLatentsMatchesDiffusers(string condition, string run) => Generate(condition, run, fromLatents: true);

    private void Generate(string condition, string run, bool fromLatents)
    {
        var (prompt, seed) = Run(condition, run);
        using var p = Setup(condition);
        using var initLatents = Golden(condition, run, "init_latents");
        var recorded = new List<Tensor>();
        var weights = new List<double>();
        var options = new FluxCallOptions
        {
            Prompt = prompt, Height = 64, Width = 64, NumInferenceSteps = 4, GuidanceScale = 3.5, MaxSequenceLength = 32,
            JointAttentionScale = Scale(condition),
            Latents = fromLatents ? initLatents : null, Seed = fromLatents ? null : seed,
            CallbackOnStepEnd = (pipe, step, t, tensors) =>
            {
                recorded.Add(tensors["latents"].clone().DetachFromDisposeScope());
                weights.Add(p.Transformer.GetLayer("transformer_blocks.0.attn.to_q")!.GetAdapter("a").Scaling);
                if (condition == "flux_lora_a_scale_schedule" && step < 3)
                    ((FluxPipeline)pipe).SetAdapters(new[] { "a" }, new[] { Schedule[step + 1] });
                return tensors;
            },
        };
        using var output = p.Pipe.Generate(options);
        try
        {
            for (int i = 0; i < 4; i++) Close(recorded[i], condition, run, $"latents_step{i}");
            Close(output.Images, condition, run, "image");
            if (condition == "flux_lora_a_scale_schedule")
            {
                // flux_lora_a: alpha 8, r 4 → scaling 2 × the adapter weight of each step.
                Assert.Equal(Schedule.Select(w => 2.0 * w), weights);
            }
        }
        finally
        {
            foreach (var t in recorded) t.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void StepByStepMatchesDiffusers(string condition, string run)
    {
        var (prompt, seed) = Run(condition, run);
        using var p = Setup(condition);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double? scale = Scale(condition);
        var recordedScale = GoldenSet.Flux.Node("pipeline", "runs", condition, run, "encode_prompt_lora_scale");
        Assert.Equal(recordedScale.IsNull ? null : recordedScale.AsDouble(), scale);

        using var embeddings = p.Pipe.EncodePrompt(prompt, maxSequenceLength: 32, loraScale: scale);
        Close(embeddings.PromptEmbeds, condition, run, "prompt_embeds");
        Close(embeddings.PooledPromptEmbeds, condition, run, "pooled_prompt_embeds");
        TensorAssert.Equal(embeddings.TextIds, Golden(condition, run, "text_ids"), "text_ids");
        Tensor latents = FluxPipeline.InitialNoise(seed, 1, 4, 8, 8);
        TensorAssert.Equal(latents, Golden(condition, run, "init_latents"), "init_latents (generator stream)");
        Tensor imageIds = FluxPipeline.PrepareLatentImageIds(4, 4);
        TensorAssert.Equal(imageIds, Golden(condition, run, "latent_image_ids"), "latent_image_ids");

        var scheduler = p.Pipe.Scheduler;
        scheduler.SetTimesteps(null, FlowMatchEulerDiscreteScheduler.PipelineSigmas(4), scheduler.CalculateShift(latents.shape[1]));
        scheduler.SetBeginIndex(0);
        Tensor guidance = full(new long[] { 1 }, 3.5f, ScalarType.Float32);
        for (int i = 0; i < 4; i++)
        {
            float t = scheduler.Timesteps[i];
            Tensor timestep = tensor(t, ScalarType.Float32).expand(1) / 1000;
            Tensor noisePred = p.Pipe.Transformer.Forward(latents, embeddings.PromptEmbeds, embeddings.PooledPromptEmbeds, timestep,
                imageIds, embeddings.TextIds, guidance, scale);
            Close(noisePred, condition, run, $"noise_pred_step{i}");
            latents = scheduler.Step(noisePred, t, latents);
            Close(latents, condition, run, $"latents_step{i}");
            if (condition == "flux_lora_a_scale_schedule" && i < 3) p.Pipe.SetAdapters(new[] { "a" }, new[] { Schedule[i + 1] });
        }
        Close(p.Pipe.DecodeLatents(latents, 64, 64), condition, run, "image");
    }

    /// <summary>
    /// <c>text_encoder_goldens</c>: CLIP with flux_lora_b's text-encoder part, then with <c>set_adapters("b", 0.8)</c>
    /// (which equals the pooled embeddings of the ab_0.7_0.8 pipeline runs).
    /// </summary>
    [Fact]
    public void ClipTextEncoderWithLoraBMatchesTransformers()
    {
        using var p = new FluxLoraHarness();
        p.Load("flux_lora_b", "b");
        using var ids = GoldenSet.Flux.Tensor("inputs/clip_input_ids");
        using var noGrad = no_grad();
        foreach (var (label, weight) in new[] { ("flux_lora_b", (double?)null), ("flux_lora_b_weight_0.8", 0.8) })
        {
            if (weight is double w) p.Pipe.SetAdapters(new[] { "b" }, new[] { w });
            using var output = p.Pipe.TextEncoder!.Forward(ids);
            foreach (var (name, actual) in new[] { ("last_hidden_state", output.LastHiddenState), ("pooler_output", output.PooledOutput) })
            {
                using var expected = GoldenSet.Flux.Tensor($"text_encoder/{label}/{name}");
                _output.WriteLine($"text_encoder/{label}/{name}: {TensorAssert.Close(actual, expected, label + "/" + name)}");
            }
        }
        FluxLoraStateAssert.Matches(p.Manager, GoldenSet.Flux.Node("text_encoder_goldens", "adapter_state_after"));
    }

    private static Tensor Golden(string condition, string run, string name) => GoldenSet.Flux.Tensor($"pipe/{condition}/{run}/{name}");

    private void Close(Tensor actual, string condition, string run, string name)
    {
        using var expected = Golden(condition, run, name);
        _output.WriteLine($"{condition}/{run}/{name}: {TensorAssert.Close(actual, expected, $"{condition}/{run}/{name}")}");
    }
}
