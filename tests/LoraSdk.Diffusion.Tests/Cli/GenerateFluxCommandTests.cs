using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Flows;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// <c>lorasdk generate</c> on a Flux folder (tests/fixtures-flux/tiny-flux; the class comes from model_index.json):
/// diffusers' full-pipeline images (<c>pipe/&lt;condition&gt;/&lt;p&gt;/image</c>, 64×64, 4 steps, guidance 3.5,
/// max_sequence_length 32) within 1e-4 relative, from a seed and from packed latents, with LoRA files, weights and the
/// joint_attention_kwargs scale; a PEFT adapter folder as <c>--lora</c> (Flux and SDXL); options of the other pipeline
/// are usage errors.
/// </summary>
public sealed class GenerateFluxCommandTests
{
    private readonly ITestOutputHelper _output;

    public GenerateFluxCommandTests(ITestOutputHelper output) => _output = output;

    private static string FluxLora(string tag) => Path.Combine(RepoPaths.FixturesFlux, "loras", tag + ".safetensors");

    private static (string Prompt, long Seed) Run(string run)
    {
        var r = GoldenSet.Flux.Node("pipeline", "runs", "base", run);
        return (r["prompt"]!.AsString(), r["seed"]!.AsInt64());
    }

    /// <summary>Runs generate on tiny-flux with the goldens' call and returns (result, image).</summary>
    private static (CliRun.Result Result, Tensor Image) Generate(TempFolder temp, string prompt, params string[] extra)
    {
        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        if (File.Exists(tensorFile)) File.Delete(tensorFile);
        var args = new List<string> { "generate", "--model", RepoPaths.TinyFlux, "--prompt", prompt, "--height", "64", "--width", "64", "--steps", "4",
            "--guidance", "3.5", "--max-sequence-length", "32", "--out", Path.Combine(temp.Path, "image.png"), "--save-tensor", tensorFile };
        args.AddRange(extra);
        var result = CliRun.InProcess(args.ToArray());
        Assert.True(result.Code == 0, result.Err);
        using var file = SafetensorsFile.Open(tensorFile);
        return (result, file.Load("image").clone());
    }

    [Theory]
    [InlineData("base", "p0", new string[0])]
    [InlineData("base", "p1", new string[0])]
    [InlineData("flux_lora_a", "p0", new[] { "--lora", "flux_lora_a" })]
    [InlineData("flux_lora_a_scale_0.5", "p1", new[] { "--lora", "flux_lora_a", "--scale", "0.5" })]
    [InlineData("ab_0.7_0.8", "p0", new[] { "--lora", "flux_lora_a:0.7", "--lora", "flux_lora_b:0.8" })]
    public void ImagesMatchDiffusers(string condition, string run, string[] extra)
    {
        using var temp = new TempFolder();
        var (prompt, seed) = Run(run);
        // "flux_lora_a:0.7" names tests/fixtures-flux/loras/flux_lora_a.safetensors with weight 0.7.
        var args = extra.Select(e =>
        {
            if (!e.StartsWith("flux_lora", System.StringComparison.Ordinal)) return e;
            var parts = e.Split(':');
            return FluxLora(parts[0]) + (parts.Length > 1 ? ":" + parts[1] : "");
        }).ToList();
        args.AddRange(new[] { "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var (result, image) = Generate(temp, prompt, args.ToArray());
        using (image)
        {
            using var golden = GoldenSet.Flux.Tensor($"pipe/{condition}/{run}/image");
            _output.WriteLine($"pipe/{condition}/{run}/image: {TensorAssert.Close(image, golden, $"generate {condition} {run}")}");
        }
        Assert.Equal($"wrote {Path.Combine(temp.Path, "image.png")} (64x64, 4 steps, guidance 3.5, seed {seed}{(extra.Length > 0 ? $", {extra.Count(e => e == "--lora")} LoRA" : "")})",
            result.Out.Split('\n')[0].Trim());
        // p1 is longer than both CLIP's 77 tokens and max_sequence_length 32: diffusers logs both truncations.
        Assert.Equal(run == "p1", result.Err.Contains("the prompt is longer than CLIP's 77 tokens", System.StringComparison.Ordinal));
        Assert.Equal(run == "p1", result.Err.Contains("longer than max_sequence_length 32 tokens", System.StringComparison.Ordinal));
    }

    [Fact]
    public void PackedLatentsGiveTheSeededImage()
    {
        using var temp = new TempFolder();
        string latentsFile = Path.Combine(temp.Path, "latents.safetensors");
        using (var init = GoldenSet.Flux.Tensor("pipe/base/p0/init_latents"))
        {
            Assert.Equal(new long[] { 1, 16, 16 }, init.shape); // (1, (64/16)·(64/16), 4·4)
            SafetensorsWriter.Save(latentsFile, new[] { new KeyValuePair<string, Tensor>("latents", init) });
        }
        var (result, image) = Generate(temp, Run("p0").Prompt, "--latents", latentsFile, "-q");
        using (image)
        {
            using var golden = GoldenSet.Flux.Tensor("pipe/base/p0/image");
            _output.WriteLine($"--latents: {TensorAssert.Close(image, golden, "generate --latents")}");
        }
        Assert.Contains($"latents {latentsFile}", result.Out);
    }

    [Fact]
    public void PeftAdapterFolderWorksAsLora()
    {
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "flux-peft");
        using (var pipe = FluxPipeline.FromPretrained(RepoPaths.TinyFlux))
        {
            pipe.LoadLoraWeights(FluxLora("flux_lora_a"), "a");
            pipe.Lora.SavePeftAdapter(folder, "a");
        }
        folder = Path.Combine(folder, "a"); // PEFT's layout for an adapter not named "default"
        Assert.True(File.Exists(Path.Combine(folder, "adapter_config.json")));
        var (prompt, seed) = Run("p0");
        var (_, image) = Generate(temp, prompt, "--lora", folder, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q");
        using (image)
        {
            using var golden = GoldenSet.Flux.Tensor("pipe/flux_lora_a/p0/image");
            _output.WriteLine($"Flux PEFT folder: {TensorAssert.Close(image, golden, "generate --lora <Flux PEFT folder>")}");
        }

        // SDXL: a folder PEFT's save_pretrained wrote (tests/fixtures-seed-flows), adapter_config.json's alpha applied.
        string tensorFile = Path.Combine(temp.Path, "sdxl.safetensors");
        var sdxl = CliRun.InProcess("generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", SeedFlows.Prompt, "--negative-prompt", "", "--steps", "4",
            "--guidance", "5", "--seed", "2002", "--lora", Path.Combine(SeedFlows.PeftModel("ad", "ikea"), "ikea"), "--out", Path.Combine(temp.Path, "s.png"),
            "--save-tensor", tensorFile, "-q");
        Assert.True(sdxl.Code == 0, sdxl.Err);
        using var file = SafetensorsFile.Open(tensorFile);
        using var sdxlImage = file.Load("image");
        _output.WriteLine($"SDXL PEFT folder: {SeedFlows.AssertGolden(sdxlImage, "peft_folders_ad/ikea/image")}");
    }

    [Theory]
    [InlineData("flux", new[] { "--negative-prompt", "blurry" }, "--negative-prompt and --negative-prompt-2 are for SDXL pipelines")]
    [InlineData("flux", new[] { "--negative-prompt-2", "" }, "--negative-prompt and --negative-prompt-2 are for SDXL pipelines")]
    [InlineData("flux", new[] { "--height", "72" }, "--width and --height must be multiples of 16 for this FluxPipeline")]
    [InlineData("flux", new[] { "--max-sequence-length", "513" }, "--max-sequence-length must be an integer between 1 and 512")]
    [InlineData("sdxl", new[] { "--max-sequence-length", "32" }, "--max-sequence-length is for Flux pipelines")]
    public void OptionsOfTheOtherPipelineAreUsageErrors(string model, string[] extra, string message)
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "x.png");
        var args = new[] { "generate", "--model", model == "flux" ? RepoPaths.TinyFlux : RepoPaths.TinySdxlPrompt, "--prompt", "a fox", "--steps", "1",
            "--seed", "1", "--out", png, "-q" }.Concat(extra).ToArray();
        var result = CliRun.InProcess(args);
        Assert.Equal(2, result.Code);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.Contains(message, result.ErrLines[0]);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void LatentsOfTheWrongLayoutAreAOneLineFailure()
    {
        using var temp = new TempFolder();
        string latentsFile = Path.Combine(temp.Path, "latents.safetensors");
        using (var unpacked = zeros(1, 4, 8, 8))
            SafetensorsWriter.Save(latentsFile, new[] { new KeyValuePair<string, Tensor>("latents", unpacked) });
        string png = Path.Combine(temp.Path, "x.png");
        var result = CliRun.InProcess("generate", "--model", RepoPaths.TinyFlux, "--prompt", "a fox", "--height", "64", "--width", "64", "--steps", "1",
            "--latents", latentsFile, "--out", png, "-q");
        Assert.Equal(1, result.Code);
        Assert.Contains("needs the packed layout (1, 16, 16)", Assert.Single(result.ErrLines));
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void ASizeThatDoesNotFitInMemoryIsExitThreeBeforeGenerating()
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "x.png");
        var result = CliRun.InProcess(terminal: false, availableMemory: 4L << 30, "generate", "--model", RepoPaths.TinyFlux, "--prompt", "a fox",
            "--height", "16384", "--width", "16384", "--steps", "1", "--seed", "1", "--out", png, "-q");
        Assert.Equal(3, result.Code);
        var line = Assert.Single(result.ErrLines);
        Assert.StartsWith("lorasdk generate: a 16384x16384 image with this model in float32 needs about ", line);
        Assert.Contains("but only 4.0 GiB is available to this process", line);
        Assert.False(File.Exists(png));
    }
}
