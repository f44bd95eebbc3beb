using System;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Saving;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Diffusion.Tokenization;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flows;

/// <summary>
/// <c>SavePretrained</c> of the pipeline and of each model beyond the guide's flow: diffusers' <c>variant</c> file
/// names and dtype choice (fp16 save → load), sharding with an index above <c>MaxShardSize</c>, the atomic folder
/// (nothing appears when a save fails; only a saved folder is replaced), refusal while adapters are loaded, and the
/// component folders (VAE, scheduler, tokenizer) round-tripping.
/// </summary>
public sealed class SavePretrainedTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;

    public SavePretrainedTests(PromptPipelineFixture fixture) => _pipe = fixture.Pipeline;

    [Fact]
    public void Fp16VariantSavesVariantFilesInFloat16AndLoadsBackWithTheVariant()
    {
        using var temp = new TempFolder();
        string saved = Path.Combine(temp.Path, "fp16");
        _pipe.SavePretrained(saved, new ModelSaveOptions { Variant = "fp16", DType = ScalarType.Float16 });

        foreach (var (component, file) in new[]
        {
            ("unet", "diffusion_pytorch_model.fp16.safetensors"), ("vae", "diffusion_pytorch_model.fp16.safetensors"),
            ("text_encoder", "model.fp16.safetensors"), ("text_encoder_2", "model.fp16.safetensors"),
        })
        {
            Assert.Equal(new[] { "config.json", file }, Directory.GetFiles(Path.Combine(saved, component)).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal));
            var header = SafetensorsHeader.Read(Path.Combine(saved, component, file));
            Assert.All(header.Tensors, t => Assert.Equal(SafetensorsDType.F16, t.DType));
        }
        Assert.Equal("float16", JsonValue.Parse(File.ReadAllText(Path.Combine(saved, "text_encoder", "config.json")))["dtype"]!.AsString());

        // diffusers: from_pretrained without the variant finds no weights; with it, the fp16 files load.
        var e = Assert.Throws<ModelLoadException>(() => StableDiffusionXLPipeline.FromPretrained(saved));
        Assert.Equal(ModelLoadErrorKind.MissingFile, e.Kind);
        using var fp16 = StableDiffusionXLPipeline.FromPretrained(saved, new ModelLoadOptions { Variant = "fp16" });
        foreach (var (name, module) in _pipe.Components)
        {
            var loaded = fp16.Components[name].named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (key, original) in module.named_parameters())
            {
                using var rounded = original.to_type(ScalarType.Float16).to_type(ScalarType.Float32);
                TensorAssert.Equal(loaded[key], rounded, $"{name}.{key} (fp16 variant, loaded as float32)");
            }
        }
    }

    [Fact]
    public void WeightsAboveTheShardSizeAreShardedWithAnIndexAndLoadBack()
    {
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "unet");
        _pipe.Unet.SavePretrained(folder, new ModelSaveOptions { MaxShardSize = 3_000_000 });
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.Equal(new[]
        {
            "config.json", "diffusion_pytorch_model-00001-of-00003.safetensors", "diffusion_pytorch_model-00002-of-00003.safetensors",
            "diffusion_pytorch_model-00003-of-00003.safetensors", "diffusion_pytorch_model.safetensors.index.json",
        }, files);
        var index = JsonValue.Parse(File.ReadAllText(Path.Combine(folder, "diffusion_pytorch_model.safetensors.index.json")));
        Assert.Equal(7956000 - SafetensorsHeader.Read(Path.Combine(RepoPaths.TinySdxlPrompt, "unet", "diffusion_pytorch_model.safetensors")).DataOffset,
            index["metadata"]!["total_size"]!.AsInt64());
        Assert.Equal(428, index["weight_map"]!.Properties.Count());
        foreach (var shard in files.Where(f => f!.Contains("-of-", StringComparison.Ordinal)))
            Assert.True(new FileInfo(Path.Combine(folder, shard!)).Length < 3_000_000 + 100_000, $"{shard} is larger than the shard size");

        using var loaded = ComponentLoader.LoadUNet(folder);
        AssertSameParameters(_pipe.Unet, loaded, "sharded UNet");

        // With a variant: diffusion_pytorch_model.fp16-0000i-of-0000n.safetensors + diffusion_pytorch_model.safetensors.index.fp16.json.
        string variant = Path.Combine(temp.Path, "unet-fp16");
        _pipe.Unet.SavePretrained(variant, new ModelSaveOptions { MaxShardSize = 3_000_000, Variant = "fp16" });
        Assert.Contains("diffusion_pytorch_model.safetensors.index.fp16.json", Directory.GetFiles(variant).Select(Path.GetFileName));
        Assert.Contains("diffusion_pytorch_model.fp16-00001-of-00003.safetensors", Directory.GetFiles(variant).Select(Path.GetFileName));
        using var loadedVariant = ComponentLoader.LoadUNet(variant, new ModelLoadOptions { Variant = "fp16" });
        AssertSameParameters(_pipe.Unet, loadedVariant, "sharded fp16-variant UNet (stored float32)");
    }

    [Fact]
    public void APipelineWithAdaptersLoadedIsRefusedAndNothingIsWritten()
    {
        using var temp = new TempFolder();
        string target = Path.Combine(temp.Path, "out");
        try
        {
            _pipe.LoadLoraWeights(Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "a");
            var e = Assert.Throws<ModelSaveException>(() => _pipe.SavePretrained(target));
            Assert.Equal(ModelSaveErrorKind.AdaptersLoaded, e.Kind);
            Assert.Equal(LoraSdkErrorCategory.InvalidOperation, e.Category);
            Assert.Contains("UnloadLoraWeights", e.Message);
            var unet = Assert.Throws<ModelSaveException>(() => _pipe.Unet.SavePretrained(target));
            Assert.Equal(ModelSaveErrorKind.AdaptersLoaded, unet.Kind);
            Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
        }
        finally
        {
            _pipe.UnloadLoraWeights();
        }
    }

    [Fact]
    public void OnlyAnEmptyOrSavedFolderIsReplacedAndAFailedSaveLeavesNoTrace()
    {
        using var temp = new TempFolder();
        string foreign = Path.Combine(temp.Path, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        var e = Assert.Throws<ModelSaveException>(() => _pipe.SavePretrained(foreign));
        Assert.Equal(ModelSaveErrorKind.InvalidTarget, e.Kind);
        Assert.Equal(new[] { "notes.txt" }, Directory.GetFiles(foreign).Select(Path.GetFileName));

        string saved = Path.Combine(temp.Path, "saved");
        _pipe.SavePretrained(saved);
        File.WriteAllText(Path.Combine(saved, "stale.txt"), "from an older save");
        _pipe.SavePretrained(saved);                                   // a saved pipeline is replaced as a whole
        Assert.False(File.Exists(Path.Combine(saved, "stale.txt")));
        Assert.True(File.Exists(Path.Combine(saved, "model_index.json")));

        // A save that fails half-way (the weights are written, then the config cannot be: it was built in code) leaves nothing.
        var inCode = new AutoencoderKLConfig { BlockOutChannels = _pipe.Vae.Config.BlockOutChannels };
        Assert.Null(inCode.Source);
        using (var codeVae = new LoraSdk.Diffusion.Models.Vae.AutoencoderKL(inCode, new LoraSdk.Diffusion.Models.Common.ModelPlacement(ScalarType.Float32, CPU)))
        {
            var unsupported = Assert.Throws<ModelSaveException>(() => codeVae.SavePretrained(Path.Combine(temp.Path, "code-vae")));
            Assert.Equal(ModelSaveErrorKind.Unsupported, unsupported.Kind);
        }
        string file = Path.Combine(temp.Path, "a-file");
        File.WriteAllText(file, "x");
        Assert.Equal(ModelSaveErrorKind.InvalidTarget, Assert.Throws<ModelSaveException>(() => _pipe.Vae.SavePretrained(file)).Kind);
        var invalid = Assert.Throws<ModelSaveException>(() => _pipe.SavePretrained(Path.Combine(temp.Path, "v"), new ModelSaveOptions { Variant = "a/b" }));
        Assert.Equal(ModelSaveErrorKind.InvalidOption, invalid.Kind);
        Assert.Equal(new[] { "a-file", "foreign", "saved" }, Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void ComponentFoldersRoundTrip()
    {
        using var temp = new TempFolder();
        string vae = _pipe.Vae.SavePretrained(Path.Combine(temp.Path, "vae"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(RepoPaths.TinySdxlPrompt, "vae", "diffusion_pytorch_model.safetensors")),
            File.ReadAllBytes(Path.Combine(vae, "diffusion_pytorch_model.safetensors")));
        using (var loaded = ComponentLoader.LoadVae(vae)) AssertSameParameters(_pipe.Vae, loaded, "VAE");

        string scheduler = _pipe.Scheduler.SavePretrained(Path.Combine(temp.Path, "scheduler"));
        string written = File.ReadAllText(Path.Combine(scheduler, "scheduler_config.json"));
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.TinySdxlPrompt, "scheduler", "scheduler_config.json")).TrimEnd('\n'), written.TrimEnd('\n'));
        var reloaded = new EulerDiscreteScheduler(EulerDiscreteSchedulerConfig.Load(Path.Combine(scheduler, "scheduler_config.json")));
        Assert.Equal(_pipe.Scheduler.Config.TimestepSpacing, reloaded.Config.TimestepSpacing);
        Assert.Equal(_pipe.Scheduler.Config.BetaEnd, reloaded.Config.BetaEnd);

        var inCode = new EulerDiscreteScheduler(new EulerDiscreteSchedulerConfig { BetaSchedule = "scaled_linear", StepsOffset = 1 });
        string fromCode = inCode.SavePretrained(Path.Combine(temp.Path, "scheduler-in-code"));
        var config = EulerDiscreteSchedulerConfig.Load(Path.Combine(fromCode, "scheduler_config.json"));
        Assert.Equal("scaled_linear", config.BetaSchedule);
        Assert.Equal(1, config.StepsOffset);
        Assert.Equal(17 + 2, JsonValue.Parse(File.ReadAllText(Path.Combine(fromCode, "scheduler_config.json"))).Properties.Count());

        string tokenizer = Path.Combine(temp.Path, "tokenizer_2");
        _pipe.Tokenizer2!.SavePretrained(tokenizer);
        var back = ClipTokenizer.FromFolder(tokenizer);
        Assert.Equal(_pipe.Tokenizer2.PadTokenId, back.PadTokenId);
        Assert.Equal(_pipe.Tokenizer2.Encode(SeedFlows.Prompt + "!"), back.Encode(SeedFlows.Prompt + "!"));

        string te = _pipe.TextEncoder2!.SavePretrained(Path.Combine(temp.Path, "text_encoder_2"), new ModelSaveOptions { DType = ScalarType.BFloat16 });
        Assert.Equal("bfloat16", JsonValue.Parse(File.ReadAllText(Path.Combine(te, "config.json")))["dtype"]!.AsString());
        Assert.All(SafetensorsHeader.Read(Path.Combine(te, "model.safetensors")).Tensors, t => Assert.Equal(SafetensorsDType.BF16, t.DType));
    }

    private static void AssertSameParameters(nn.Module expected, nn.Module actual, string label)
    {
        var want = expected.named_parameters().ToDictionary(p => p.name, p => ParameterChecksums.Hash(p.parameter));
        var have = actual.named_parameters().ToList();
        Assert.Equal(want.Count, have.Count);
        foreach (var (key, p) in have) Assert.True(want[key].SequenceEqual(ParameterChecksums.Hash(p)), $"{label}: {key} differs");
    }
}
