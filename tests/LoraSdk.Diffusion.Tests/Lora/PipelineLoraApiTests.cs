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

    [Fact]
    public void ThePipelineIsTheLoraApiAndOwnsOneEngine()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        Assert.False(pipe.HasLora);
        Assert.Empty(pipe.GetListAdapters()); // asking creates nothing
        LoraSdk.Core.ILoraPipeline api = pipe; // diffusers' pipe.load_lora_weights(...) shape
        api.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "a");
        Assert.Same(pipe.Lora, pipe.Lora);
        Assert.Equal(new[] { "a" }, pipe.Lora.GetListAdapters()["unet"]);
        Assert.Same(pipe.LoraScaleHook, pipe.Unet.LoraScaleHook);
        Assert.NotNull(pipe.LoraScaleHook);
        pipe.SetAdapters(new[] { "a" }, null); // compiles (one overload takes a list that may be null) and means 1.0
        Assert.Equal(new[] { "a" }, pipe.GetActiveAdapters());
    }

    [Fact]
    public void EveryExceptionTheSdkDefinesDerivesFromLoraSdkException()
    {
        var assemblies = new[]
        {
            typeof(LoraSdk.Core.LoraSdkException).Assembly, typeof(LoraSdk.Adapters.LoraComponent).Assembly,
            typeof(StableDiffusionXLPipeline).Assembly, typeof(LoraSdk.Typed.LoraAdapter).Assembly,
        };
        var exceptions = assemblies.SelectMany(a => a.GetExportedTypes()).Where(t => typeof(System.Exception).IsAssignableFrom(t)).ToList();
        Assert.NotEmpty(exceptions);
        Assert.All(exceptions, t => Assert.True(typeof(LoraSdk.Core.LoraSdkException).IsAssignableFrom(t), $"{t.FullName} does not derive from LoraSdkException"));
    }
}
