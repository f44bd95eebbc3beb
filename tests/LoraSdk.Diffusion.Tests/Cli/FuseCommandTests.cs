using System;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Flows;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// <c>lorasdk fuse</c>: the guide's fuse → unload → save_pretrained flow from the command line (tests/fixtures-seed-flows,
/// section 2): the saved folder has diffusers' files and reloads to diffusers' <c>fuse_save/reloaded/image</c> (≤ 1e-4
/// relative); dtype and variant naming; usage errors exit 2, failures exit 1, nothing written.
/// </summary>
public sealed class FuseCommandTests
{
    private readonly ITestOutputHelper _output;

    public FuseCommandTests(ITestOutputHelper output) => _output = output;

    private static string Lora(string tag) => Path.Combine(RepoPaths.Loras, tag + ".safetensors");

    private static CliRun.Result Generate(string model, string tensorFile, string folder) =>
        CliRun.InProcess("generate", "--model", model, "--prompt", SeedFlows.Prompt, "--negative-prompt", "", "--steps", "4", "--guidance", "5",
            "--seed", "2002", "--out", Path.Combine(folder, "x.png"), "--save-tensor", tensorFile, "-q");

    [Fact]
    public void FusedSavedFolderReloadsToDiffusersImageAndHasItsFiles()
    {
        using var temp = new TempFolder();
        string fused = Path.Combine(temp.Path, "fused");
        var result = CliRun.InProcess("fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a") + ":0.7", "--lora", Lora("lora_b") + ":0.8",
            "--lora-scale", "1.0", "--out", fused);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal($"wrote {fused} (StableDiffusionXLPipeline, 2 LoRA(s) fused, lora_scale 1, float32)", result.Out.Trim());
        Assert.Contains("lorasdk fuse: fusing 2 adapter(s)", result.Err);

        var listing = GoldenSet.SeedFlows.Node("flows", "fuse_unload_save_pretrained_reload", "saved_listing");
        var ours = Directory.GetFiles(fused, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fused, f).Replace('\\', '/')).ToHashSet();
        var missing = listing.Properties.Select(p => p.Key).Where(k => !k.StartsWith("tokenizer", StringComparison.Ordinal) && !ours.Contains(k)).ToList();
        Assert.Empty(missing);
        Assert.Empty(Directory.GetDirectories(temp.Path, ".*"));

        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        var generated = Generate(fused, tensorFile, temp.Path);
        Assert.True(generated.Code == 0, generated.Err);
        using var file = SafetensorsFile.Open(tensorFile);
        using var image = file.Load("image");
        _output.WriteLine($"fuse_save/reloaded/image: {SeedFlows.AssertGolden(image, "fuse_save/reloaded/image")}");
    }

    [Fact]
    public void DtypeAndVariantNameTheWeightFiles()
    {
        using var temp = new TempFolder();
        string fused = Path.Combine(temp.Path, "fused16");
        var result = CliRun.InProcess("fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a"), "--dtype", "float16", "--variant", "fp16",
            "--out", fused, "-q");
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal("", result.Err);
        foreach (var weights in new[] { "unet/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.fp16.safetensors",
                     "text_encoder/model.fp16.safetensors", "text_encoder_2/model.fp16.safetensors" })
        {
            string path = Path.Combine(fused, weights);
            Assert.True(File.Exists(path), weights);
            Assert.All(SafetensorsHeader.Read(path).Tensors, t => Assert.Equal(SafetensorsDType.F16, t.DType));
        }
        Assert.False(File.Exists(Path.Combine(fused, "unet", "diffusion_pytorch_model.safetensors")));
    }

    [Theory]
    [InlineData(new[] { "--lora-scale", "1.0" }, "--lora is required")]
    [InlineData(new[] { "--lora", "X", "--variant", "fp16/../x" }, "--variant must be a name")]
    [InlineData(new[] { "--lora", "X", "--lora-scale", "inf" }, "--lora-scale must be a finite number")]
    [InlineData(new[] { "--lora", "X:nan" }, "--lora weight must be a finite number")]
    [InlineData(new[] { "--lora", "X", "--dtype", "int8" }, "--dtype must be float32, bfloat16 or float16")]
    public void UsageErrorsAreExitTwoAndWriteNothing(string[] extra, string message)
    {
        using var temp = new TempFolder();
        string fused = Path.Combine(temp.Path, "fused");
        var args = new[] { "fuse", "--model", RepoPaths.TinySdxlPrompt, "--out", fused }
            .Concat(extra.Select(e => e.Replace("X", Lora("lora_a"), StringComparison.Ordinal))).ToArray();
        var result = CliRun.InProcess(args);
        Assert.Equal(2, result.Code);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.Contains(message, result.ErrLines[0]);
        Assert.StartsWith("usage: lorasdk fuse --model <folder> --out <folder> [options]", result.ErrLines[1]);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void OutputOverTheModelFolderIsAUsageError()
    {
        var result = CliRun.InProcess("fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a"), "--out", RepoPaths.TinySdxlPrompt + "/");
        Assert.Equal(2, result.Code);
        Assert.Equal($"lorasdk fuse: --out {RepoPaths.TinySdxlPrompt}/ names the --model input {RepoPaths.TinySdxlPrompt}: writing it would overwrite that input; " +
                     "choose another output path", result.ErrLines[0]);
    }

    [Fact]
    public void BadInputsAreOneLineFailuresAndChangeNothing()
    {
        using var temp = new TempFolder();
        void Fails(string[] args, string message)
        {
            var result = CliRun.InProcess(args);
            Assert.Equal(1, result.Code);
            Assert.Contains(message, Assert.Single(result.ErrLines));
            Assert.False(CliRun.HasStackTrace(result.Err));
        }
        string fused = Path.Combine(temp.Path, "fused");
        Fails(new[] { "fuse", "--model", RepoPaths.TinyFlux, "--lora", Path.Combine(RepoPaths.FixturesFlux, "loras", "flux_lora_a.safetensors"), "--out", fused },
            "holds a FluxPipeline; fuse saves StableDiffusionXLPipeline folders");
        Fails(new[] { "fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Path.Combine(temp.Path, "missing.safetensors"), "--out", fused }, "missing.safetensors: not found");
        Assert.False(Directory.Exists(fused));

        string file = Path.Combine(temp.Path, "a-file");
        File.WriteAllText(file, "keep");
        Fails(new[] { "fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a"), "--out", file }, "is a file; expected a folder path");
        Assert.Equal("keep", File.ReadAllText(file));

        // An --out under a file: refused before loading (no progress line), not after fusing with a bare "file exists".
        Fails(new[] { "fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a"), "--out", Path.Combine(file, "fused") },
            $"--out {Path.Combine(file, "fused")}: {file} is a file, not a folder");
        Assert.Equal("keep", File.ReadAllText(file));

        // A non-empty folder that is not a saved pipeline is never replaced, and that is known before the slow load:
        // without -q the one line shows that no "loading model" stage ran.
        string unrelated = Path.Combine(temp.Path, "photos");
        Directory.CreateDirectory(unrelated);
        File.WriteAllText(Path.Combine(unrelated, "cat.jpg"), "not a model");
        Fails(new[] { "fuse", "--model", RepoPaths.TinySdxlPrompt, "--lora", Lora("lora_a"), "--out", unrelated },
            $"--out {unrelated}: the folder exists and is not a saved pipeline (model_index.json); refusing to replace it");
        Assert.Equal(new[] { Path.Combine(unrelated, "cat.jpg") }, Directory.GetFileSystemEntries(unrelated));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".*"));
    }
}
