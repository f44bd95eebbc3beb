using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>
/// The embedded prompt pipeline against diffusers' <c>base/*</c> goldens of tests/fixtures-prompt: encode_prompt
/// outputs, latents after every step and the final image for the four prompt cases, from the recorded initial
/// latents and from the seed.
/// </summary>
public sealed class PromptPipelineBaseTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;
    private readonly ITestOutputHelper _output;

    public PromptPipelineBaseTests(PromptPipelineFixture fixture, ITestOutputHelper output)
    {
        _pipe = fixture.Pipeline;
        _output = output;
    }

    public static IEnumerable<object[]> Cases() => PromptCase.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodePromptMatchesDiffusers(string name)
    {
        var c = PromptCase.Load("base", name);
        using var e = _pipe.EncodePrompt(c.Prompt, negativePrompt: c.NegativePrompt);
        Check(e.PromptEmbeds, c.Key("prompt_embeds"));
        Check(e.NegativePromptEmbeds!, c.Key("negative_prompt_embeds"));
        Check(e.PooledPromptEmbeds, c.Key("pooled_prompt_embeds"));
        Check(e.NegativePooledPromptEmbeds!, c.Key("negative_pooled_prompt_embeds"));
        if (c.NegativePrompt is null)
        {
            Assert.Equal(0.0, e.NegativePromptEmbeds!.abs().max().item<float>());
            Assert.Equal(0.0, e.NegativePooledPromptEmbeds!.abs().max().item<float>());
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GenerateFromRecordedLatentsMatchesEveryStepAndTheImage(string name)
    {
        var c = PromptCase.Load("base", name);
        using var init = GoldenSet.Prompt.Tensor($"latents_init/seed_{c.Seed}");
        var recorded = new List<Tensor>();
        var log = new List<(int Step, float Timestep)>();
        try
        {
            using var output = _pipe.Generate(new StableDiffusionXLCallOptions
            {
                Prompt = c.Prompt, NegativePrompt = c.NegativePrompt, NumInferenceSteps = 4, GuidanceScale = 5.0,
                Height = 64, Width = 64, Latents = init,
                CallbackOnStepEnd = (p, step, t, tensors) =>
                {
                    recorded.Add(tensors["latents"].clone().DetachFromDisposeScope());
                    log.Add((step, t));
                    return tensors;
                },
            });
            Assert.Equal(4, recorded.Count);
            for (int i = 0; i < 4; i++) Check(recorded[i], c.Key($"latents_after_step_{i}"));
            Check(output.Images, c.Key("image"));
            var expectedLog = GoldenSet.Prompt.Node("cases", $"base/{name}", "callback_log").Items
                .Select(v => ((int)v["step"]!.AsInt64(), (float)v["timestep"]!.AsDouble())).ToList();
            Assert.Equal(expectedLog, log);
        }
        finally
        {
            foreach (var t in recorded) t.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GenerateFromTheSeedEqualsTheRecordedLatentsRun(string name)
    {
        var c = PromptCase.Load("base", name);
        using var init = GoldenSet.Prompt.Tensor($"latents_init/seed_{c.Seed}");
        var options = new StableDiffusionXLCallOptions
        {
            Prompt = c.Prompt, NegativePrompt = c.NegativePrompt, NumInferenceSteps = 4, GuidanceScale = 5.0, Height = 64, Width = 64,
        };
        using var fromSeed = _pipe.Generate(new StableDiffusionXLCallOptions
        {
            Prompt = options.Prompt, NegativePrompt = options.NegativePrompt, NumInferenceSteps = 4, GuidanceScale = 5.0,
            Height = 64, Width = 64, Seed = c.Seed,
        });
        using var fromLatents = _pipe.Generate(new StableDiffusionXLCallOptions
        {
            Prompt = options.Prompt, NegativePrompt = options.NegativePrompt, NumInferenceSteps = 4, GuidanceScale = 5.0,
            Height = 64, Width = 64, Latents = init,
        });
        TensorAssert.Equal(fromSeed.Images, fromLatents.Images, $"{name}: seed {c.Seed} vs latents_init");
        Check(fromSeed.Images, c.Key("image"));
    }

    [Fact]
    public void SchedulerMatchesTheRecordedFourStepSchedule()
    {
        var s = GoldenSet.Prompt.Node("scheduler_after_calls");
        _pipe.Scheduler.SetTimesteps(4);
        Assert.Equal(s["timesteps"]!.Items.Select(v => (float)v.AsDouble()).ToArray(), _pipe.Scheduler.Timesteps);
        Assert.Equal(s["sigmas"]!.Items.Select(v => (float)v.AsDouble()).ToArray(), _pipe.Scheduler.Sigmas);
        Assert.Equal((float)s["init_noise_sigma"]!.AsDouble(), _pipe.Scheduler.InitNoiseSigma);
    }

    private void Check(Tensor actual, string key)
    {
        using var expected = GoldenSet.Prompt.Tensor(key);
        _output.WriteLine($"{key}: {TensorAssert.Close(actual, expected, key)}");
    }
}
