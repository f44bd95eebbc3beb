using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>The pipeline's own LoRA API (<c>pipe.LoadLoraWeights</c>, <c>pipe.Lora</c>), as users get it.</summary>
public sealed class PipelineLoraApiTests
{
    [Fact]
    public void SavedWeightsUseDiffusersKeysForEveryComponent()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        var lora = pipe.Lora;
        string source = Path.Combine(RepoPaths.Loras, "lora_a.safetensors");
        lora.LoadLoraWeights(source, "a");
        using var temp = new TempFolder();
        string saved = lora.SaveLoraWeights(temp.Path, "a", "a.safetensors");

        using var original = SafetensorsFile.Open(source);
        using var ours = SafetensorsFile.Open(saved);
        var expected = original.Keys.OrderBy(k => k, System.StringComparer.Ordinal).ToArray();
        var actual = ours.Keys.OrderBy(k => k, System.StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual); // incl. text_encoder_2.text_model.… as transformers writes them
        Assert.Contains(actual, k => k.StartsWith("text_encoder_2.text_model.encoder.layers.0.", System.StringComparison.Ordinal));
    }
}
