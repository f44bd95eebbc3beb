using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// diffusers' <c>load_lora_weights(folder, weight_name=…)</c> through the pipeline: <c>SaveLoraWeights(dir)</c> →
/// <c>LoadLoraWeights(dir)</c> round-trips, <c>weightName</c> selects a file, and a folder with none or several
/// <c>.safetensors</c> files gets the locator's message before anything changes.
/// </summary>
public sealed class LoraFolderLoadingTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;

    public LoraFolderLoadingTests(PromptPipelineFixture fixture) => _pipe = fixture.Pipeline;

    private static string Lora(string tag) => Path.Combine(RepoPaths.Loras, tag + ".safetensors");

    [Fact]
    public void SaveLoraWeightsToAFolderThenLoadTheFolderRoundTrips()
    {
        using var temp = new TempFolder();
        try
        {
            _pipe.LoadLoraWeights(Lora("lora_a"), "a");
            var before = ParameterChecksums.Of(_pipe.Lora).Where(kv => kv.Key.EndsWith(".a", System.StringComparison.Ordinal)).ToList();
            using var image = Flows.SeedFlows.Image(_pipe);
            string written = _pipe.SaveLoraWeights(temp.Path, "a");
            Assert.Equal(Path.Combine(temp.Path, "pytorch_lora_weights.safetensors"), written);
            _pipe.UnloadLoraWeights();

            Assert.Equal("a", _pipe.LoadLoraWeights(temp.Path, "a"));   // the folder, not the file
            Assert.Equal(written, _pipe.Lora.LastLoadResult!.SourceName);
            Assert.Equal(new[] { "text_encoder", "text_encoder_2", "unet" }, _pipe.GetListAdapters().Keys.OrderBy(k => k, System.StringComparer.Ordinal));
            var after = ParameterChecksums.Of(_pipe.Lora).Where(kv => kv.Key.EndsWith(".a", System.StringComparison.Ordinal)).ToList();
            Assert.True(before.Count > 3 * 100, "every module's lora_A, lora_B and scaling of adapter a");
            Assert.Equal(before.Select(kv => kv.Key), after.Select(kv => kv.Key));
            Assert.All(before.Zip(after), p => Assert.Equal(p.First.Value, p.Second.Value));
            using var again = Flows.SeedFlows.Image(_pipe);
            TensorAssert.Equal(again, image, "image after SaveLoraWeights(dir) → LoadLoraWeights(dir)");
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }

    [Fact]
    public void WeightNameSelectsAFileOfAFolderWithSeveral()
    {
        using var temp = new TempFolder();
        File.Copy(Lora("lora_a"), Path.Combine(temp.Path, "lora_a.safetensors"));
        File.Copy(Lora("lora_b"), Path.Combine(temp.Path, "lora_b.safetensors"));
        try
        {
            var several = Assert.Throws<LoraException>(() => _pipe.LoadLoraWeights(temp.Path, "b"));
            Assert.Equal(LoraErrorKind.AmbiguousSource, several.Kind);
            Assert.Equal(LoraSdkErrorCategory.InvalidArgument, several.Category);
            Assert.Contains("holds 2 .safetensors files (lora_a.safetensors, lora_b.safetensors); pass weightName", several.Message);
            Assert.Empty(_pipe.GetListAdapters());

            var unknown = Assert.Throws<LoraException>(() => _pipe.LoadLoraWeights(temp.Path, "b", weightName: "lora_c.safetensors"));
            Assert.Equal(LoraErrorKind.SourceNotFound, unknown.Kind);
            Assert.Contains("has no file 'lora_c.safetensors' (it holds lora_a.safetensors, lora_b.safetensors)", unknown.Message);

            var onFile = Assert.Throws<LoraException>(() => _pipe.LoadLoraWeights(Lora("lora_b"), "b", weightName: "lora_b.safetensors"));
            Assert.Contains("is a file; weightName", onFile.Message);

            _pipe.LoadLoraWeights(temp.Path, "b", weightName: "lora_b.safetensors");
            Assert.Equal(Path.Combine(temp.Path, "lora_b.safetensors"), _pipe.Lora.LastLoadResult!.SourceName);
            _pipe.LoadLoraWeights(Lora("lora_b"), "b-file");
            var unet = _pipe.Lora["unet"];
            var fromFolder = unet.GetAdapterWeights("b").ToList();
            var fromFile = unet.GetAdapterWeights("b-file").ToDictionary(kv => kv.Key, kv => kv.Value);
            Assert.Equal(fromFile.Count, fromFolder.Count);
            foreach (var (module, w) in fromFolder)
            {
                TensorAssert.Equal(w.LowRank().A, fromFile[module].LowRank().A, module);
                Assert.Equal(fromFile[module].Scaling, w.Scaling);
            }
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }

    [Fact]
    public void AFolderWithoutALoraFileSaysSo()
    {
        using var temp = new TempFolder();
        File.WriteAllText(Path.Combine(temp.Path, "notes.txt"), "no weights here");
        var e = Assert.Throws<LoraException>(() => _pipe.LoadLoraWeights(temp.Path));
        Assert.Equal(LoraErrorKind.SourceNotFound, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.NotFound, e.Category);
        Assert.Contains("is a folder without a .safetensors file", e.Message);
        Assert.Equal(temp.Path, e.SourceName);
        Assert.Empty(_pipe.GetListAdapters());
    }
}
