using System.IO;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flows;

/// <summary>
/// The call and the files of tests/fixtures-seed-flows (README there): every golden image is
/// <c>p(PROMPT, generator=manual_seed(2002), negative_prompt="", num_inference_steps=4, guidance_scale=5.0, height=64, width=64)</c>
/// on the tiny prompt pipeline (models/tiny-sdxl-prompt), float32.
/// </summary>
internal static class SeedFlows
{
    public const string Prompt = "A bowl of ramen shaped like a cute kawaii bear, by Feng Zikai";

    /// <summary>The goldens' pipeline call (from <c>goldens.json</c> → <c>meta</c>).</summary>
    public static StableDiffusionXLCallOptions Call()
    {
        var meta = GoldenSet.SeedFlows.Node("meta");
        var call = meta["call"]!;
        return new StableDiffusionXLCallOptions
        {
            Prompt = meta["prompt"]!.AsString(), NegativePrompt = call["negative_prompt"]!.AsString(),
            NumInferenceSteps = (int)call["num_inference_steps"]!.AsInt64(), GuidanceScale = call["guidance_scale"]!.AsDouble(),
            Height = (int)call["height"]!.AsInt64(), Width = (int)call["width"]!.AsInt64(), Seed = meta["seed"]!.AsInt64(),
        };
    }

    /// <summary>The pipeline's image for the goldens' call, (1, 64, 64, 3) float32, owned by the caller.</summary>
    public static Tensor Image(StableDiffusionXLPipeline pipe)
    {
        using var output = pipe.Generate(Call());
        return output.Images.clone();
    }

    /// <summary><c>peft-models-&lt;pair&gt;/&lt;name&gt;_peft_model</c>: the folder PEFT's save_pretrained wrote for adapter <c>name</c>.</summary>
    public static string PeftModel(string pair, string name) => Path.Combine(RepoPaths.FixturesSeedFlows, $"peft-models-{pair}", $"{name}_peft_model");

    /// <summary>Asserts <paramref name="actual"/> against golden <paramref name="key"/> within <paramref name="tolerance"/> (relative); returns the comparison.</summary>
    public static TensorAssert.Comparison AssertGolden(Tensor actual, string key, double tolerance = TensorAssert.DefaultRelativeTolerance)
    {
        using var expected = GoldenSet.SeedFlows.Tensor(key);
        return TensorAssert.Close(actual, expected, key, tolerance);
    }
}
