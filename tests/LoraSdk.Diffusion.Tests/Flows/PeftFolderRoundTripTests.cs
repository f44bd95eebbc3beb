using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Flows;

/// <summary>
/// PEFT folder → load → SavePeftAdapter → load: PEFT's <c>save_pretrained</c> layout (the adapter "default" at the
/// root, every other adapter in a subfolder named after it, a model card at the root), the files PEFT wrote reproduced
/// byte for byte, identical configs and outputs after reloading; and the locator's messages for PEFT folders.
/// </summary>
public sealed class PeftFolderRoundTripTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;

    public PeftFolderRoundTripTests(PromptPipelineFixture fixture) => _pipe = fixture.Pipeline;

    [Fact]
    public void LoadSaveLoadReproducesPeftsFilesConfigsAndOutput()
    {
        using var temp = new TempFolder();
        string source = SeedFlows.PeftModel("ab", "feng");
        try
        {
            _pipe.LoadPeftAdapter(source, "feng", "feng");
            using var before = SeedFlows.Image(_pipe);
            string written = _pipe.SavePeftAdapter(temp.Path, "feng");

            Assert.Equal(Path.Combine(temp.Path, "feng"), written);
            Assert.Equal(new[] { "README.md", "feng" }, Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName).OrderBy(n => n, System.StringComparer.Ordinal));
            Assert.Equal(new[] { "adapter_config.json", "adapter_model.safetensors" },
                Directory.GetFiles(written).Select(Path.GetFileName).OrderBy(n => n, System.StringComparer.Ordinal));
            // What PEFT wrote, byte for byte: the config (json.dumps(indent=2, sort_keys=True)) and the safetensors file.
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, "feng", "adapter_config.json")), File.ReadAllBytes(Path.Combine(written, "adapter_config.json")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, "feng", "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(written, "adapter_model.safetensors")));
            Assert.Contains("library_name: peft", File.ReadAllText(Path.Combine(temp.Path, "README.md")));

            var original = _pipe.Lora["unet"].GetAdapterConfig("feng");
            _pipe.DeleteAdapters(new[] { "feng" });
            _pipe.LoadPeftAdapter(temp.Path, "feng", "feng");
            var reloaded = _pipe.Lora["unet"].GetAdapterConfig("feng");
            Assert.Equal(original.ToJson(), reloaded.ToJson());
            using var after = SeedFlows.Image(_pipe);
            TensorAssert.Equal(after, before, "image after PEFT folder → save → load");
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }

    [Fact]
    public void SeveralAdaptersUsePeftsLayoutAndLoadBackByName()
    {
        using var temp = new TempFolder();
        try
        {
            _pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", adapterName: null); // PEFT's name: "default"
            _pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
            Assert.Equal(new[] { "default", "feng" }, _pipe.GetListAdapters()["unet"]);
            var folders = _pipe.Lora.SavePeftAdapters(temp.Path);
            Assert.Equal(new[] { temp.Path, Path.Combine(temp.Path, "feng") }, folders);
            Assert.True(File.Exists(Path.Combine(temp.Path, "adapter_config.json")));
            Assert.True(File.Exists(Path.Combine(temp.Path, "feng", "adapter_model.safetensors")));

            _pipe.SetAdapters(new[] { "feng" });
            using var feng = SeedFlows.Image(_pipe);
            _pipe.UnloadLoraWeights();
            _pipe.LoadPeftAdapter(temp.Path, adapterName: "root");           // the "default" adapter at the root
            _pipe.LoadPeftAdapter(temp.Path, subfolder: "feng", adapterName: "feng2");
            Assert.Equal(new[] { "root", "feng2" }, _pipe.GetListAdapters()["unet"]);
            using var reloaded = SeedFlows.Image(_pipe);                      // the last loaded adapter is active
            TensorAssert.Equal(reloaded, feng, "feng after save → load by subfolder");
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }

    [Fact]
    public void APeftRootWithAdaptersInSubfoldersNamesThem()
    {
        string root = SeedFlows.PeftModel("ad", "ikea");
        var e = Assert.Throws<LoraException>(() => _pipe.LoadPeftAdapter(root));
        Assert.Equal(LoraErrorKind.SourceNotFound, e.Kind);
        Assert.Contains("ikea", e.Message);
        Assert.Contains("subfolder", e.Message);
        var missing = Assert.Throws<LoraException>(() => _pipe.LoadPeftAdapter(root, subfolder: "feng"));
        Assert.Contains("no subfolder 'feng'", missing.Message);
        Assert.Contains("ikea", missing.Message);
        var asLora = Assert.Throws<LoraException>(() => _pipe.LoadLoraWeights(root));
        Assert.Contains("PEFT adapter subfolders (ikea)", asLora.Message);
        Assert.Empty(_pipe.GetListAdapters());
    }

    [Fact]
    public void LoadLoraWeightsReadsAPeftFolderWithItsConfig()
    {
        try
        {
            // diffusers' load_lora_weights on the adapter folder: the same adapter, alpha from adapter_config.json.
            string name = _pipe.LoadLoraWeights(Path.Combine(SeedFlows.PeftModel("ad", "ikea"), "ikea"), "ikea");
            Assert.Equal("ikea", name);
            Assert.All(_pipe.Lora["unet"].GetScalings(), layer => Assert.Equal(2.0, layer.Value.Single().Value));
            using var image = SeedFlows.Image(_pipe);
            SeedFlows.AssertGolden(image, "peft_folders_ad/ikea/image");
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }
}
