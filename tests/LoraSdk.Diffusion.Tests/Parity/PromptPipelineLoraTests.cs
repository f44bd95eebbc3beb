using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>
/// The prompt pipeline with the engine attached through <see cref="LoraSdk.Diffusion.Lora.LoraPipeline.Lora"/>, against the
/// LoRA conditions of tests/fixtures-prompt: <c>lora_a</c>, <c>lora_a_scale_0.5</c> (runtime scale, which also
/// scales the text-encoder LoRA during encode_prompt) and <c>lora_ab_0.7_0.8</c>.
/// </summary>
public sealed class PromptPipelineLoraTests
{
    private readonly ITestOutputHelper _output;

    public PromptPipelineLoraTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Conditions() => new[]
    {
        new object[] { "lora_a" }, new object[] { "lora_a_scale_0.5" }, new object[] { "lora_ab_0.7_0.8" },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    public void ConditionMatchesDiffusersForEveryCase(string condition)
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        LoraAdapterManager lora = pipe.Lora;
        try
        {
            lora.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "a");
            if (condition == "lora_ab_0.7_0.8")
            {
                lora.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_b.safetensors"), "b");
                lora.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            }
            double? scale = condition == "lora_a_scale_0.5" ? 0.5 : null;
            foreach (var name in PromptCase.Names)
            {
                var c = PromptCase.Load(condition, name);
                using (var e = pipe.EncodePrompt(c.Prompt, negativePrompt: c.NegativePrompt, loraScale: scale))
                {
                    Check(e.PromptEmbeds, c.Key("prompt_embeds"));
                    Check(e.NegativePromptEmbeds!, c.Key("negative_prompt_embeds"));
                    Check(e.PooledPromptEmbeds, c.Key("pooled_prompt_embeds"));
                    Check(e.NegativePooledPromptEmbeds!, c.Key("negative_pooled_prompt_embeds"));
                }
                var recorded = new List<Tensor>();
                try
                {
                    using var output = pipe.Generate(new StableDiffusionXLCallOptions
                    {
                        Prompt = c.Prompt, NegativePrompt = c.NegativePrompt, NumInferenceSteps = 4, GuidanceScale = 5.0,
                        Height = 64, Width = 64, Seed = c.Seed, CrossAttentionScale = scale,
                        CallbackOnStepEnd = (p, step, t, kw) =>
                        {
                            recorded.Add(kw["latents"].clone().DetachFromDisposeScope());
                            return kw;
                        },
                    });
                    for (int i = 0; i < recorded.Count; i++) Check(recorded[i], c.Key($"latents_after_step_{i}"));
                    Check(output.Images, c.Key("image"));
                }
                finally
                {
                    foreach (var t in recorded) t.Dispose();
                }
            }
        }
        finally
        {
            lora.UnloadLoraWeights();
        }
    }

    private void Check(Tensor actual, string key)
    {
        using var expected = GoldenSet.Prompt.Tensor(key);
        _output.WriteLine($"{key}: {TensorAssert.Close(actual, expected, key)}");
    }
}
