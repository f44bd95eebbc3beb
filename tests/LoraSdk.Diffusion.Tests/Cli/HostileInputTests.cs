using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// Hostile input to <c>lorasdk generate</c>: every case ends with one clear line on stderr (a usage error adds the usage
/// line), a non-zero documented exit code, no stack trace, and the PNG already at <c>--out</c> untouched.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly byte[] ExistingPng = { 0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4 };

    private static string Lora => Path.Combine(RepoPaths.Loras, "lora_a.safetensors");

    private static (CliRun.Result Result, bool PngIntact) Generate(TempFolder temp, params string[] extra)
    {
        string png = Path.Combine(temp.Path, "good.png");
        File.WriteAllBytes(png, ExistingPng);
        // The extra options replace the defaults they name (each option is given once).
        var defaults = new[] { ("--model", RepoPaths.TinySdxlPrompt), ("--prompt", "a chair"), ("--seed", "1"), ("--out", png) };
        var args = new System.Collections.Generic.List<string> { "generate" };
        foreach (var (name, value) in defaults)
            if (!extra.Contains(name)) args.AddRange(new[] { name, value });
        args.AddRange(extra);
        var result = CliRun.InProcess(args.ToArray());
        return (result, File.ReadAllBytes(png).SequenceEqual(ExistingPng));
    }

    [Theory]
    [InlineData("--width 1000000 --height 1000000", "--height must be a multiple of 8 between 8 and 16384, not '1000000'")]
    [InlineData("--width 1000000", "--width must be a multiple of 8 between 8 and 16384, not '1000000'")]
    [InlineData("--height 100", "--height must be a multiple of 8")]
    [InlineData("--height 0", "--height must be a multiple of 8")]
    [InlineData("--steps 0", "--steps must be an integer between 1 and 1000, not '0'")]
    [InlineData("--steps 1001", "--steps must be an integer between 1 and 1000")]
    [InlineData("--steps 2.5", "--steps must be an integer")]
    [InlineData("--guidance nan", "--guidance must be a finite number, not 'nan'")]
    [InlineData("--guidance inf", "--guidance must be a finite number, not 'inf'")]
    [InlineData("--guidance -Infinity", "--guidance must be a finite number")]
    [InlineData("--scale NaN", "--scale must be a finite number, not 'NaN'")]
    [InlineData("--scale 1e999", "--scale must be a finite number")]
    [InlineData("--lora LORA:nan", "--lora weight must be a finite number, not 'nan'")]
    [InlineData("--lora LORA:inf", "--lora weight must be a finite number, not 'inf'")]
    [InlineData("--lora LORA:-Infinity", "--lora weight must be a finite number")]
    [InlineData("--seed x", "--seed must be an integer, not 'x'")]
    [InlineData("--dtype int8", "--dtype must be float32, bfloat16 or float16, not 'int8'")]
    [InlineData("--device tpu", "--device must be cpu, cuda or cuda:N, not 'tpu'")]
    [InlineData("--threads 0", "--threads must be an integer between 1 and 1024")]
    [InlineData("--bogus 1", "Unrecognized command or argument '--bogus'")]
    [InlineData("--seed 2 --latents LORA", "--seed and --latents are exclusive")]
    public void BadValuesAreUsageErrors(string extra, string message)
    {
        using var temp = new TempFolder();
        var (result, intact) = Generate(temp, extra.Replace("LORA", Lora).Split(' '));
        Assert.Equal(2, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.StartsWith("lorasdk generate: ", result.ErrLines[0]);
        Assert.Contains(message, result.ErrLines[0]);
        Assert.StartsWith("usage: lorasdk generate --model <folder> --prompt <text> --out <file.png> [options]", result.ErrLines[1]);
        Assert.False(CliRun.HasStackTrace(result.Err));
        Assert.True(intact, "the existing PNG was changed");
    }

    [Theory]
    [InlineData("lora-dir", "TEMP is a folder without a .safetensors file")]
    [InlineData("lora-missing", "--lora TEMP/nope.safetensors: not found")]
    [InlineData("latents-dir", "--latents TEMP: is a directory; expected a .safetensors file")]
    [InlineData("model-file", ": is a file; expected a diffusers pipeline folder")]
    [InlineData("model-missing", "--model TEMP/no-model: folder not found (expected a diffusers pipeline folder with model_index.json)")]
    [InlineData("save-tensor-dir", "--save-tensor TEMP: is a directory; expected a .safetensors file path")]
    [InlineData("not-safetensors", "garbage.safetensors: ")]
    [InlineData("no-cuda", "--device cuda: CUDA is not available")]
    public void BadFilesAreOneLineFailures(string what, string message)
    {
        using var temp = new TempFolder();
        var (result, intact) = what switch
        {
            "lora-dir" => Generate(temp, "--lora", temp.Path),
            "lora-missing" => Generate(temp, "--lora", Path.Combine(temp.Path, "nope.safetensors")),
            "latents-dir" => GenerateWithoutSeed(temp, "--latents", temp.Path),
            "model-file" => Generate(temp, "--model", Lora),
            "model-missing" => Generate(temp, "--model", Path.Combine(temp.Path, "no-model")),
            "save-tensor-dir" => Generate(temp, "--save-tensor", temp.Path),
            "no-cuda" => Generate(temp, "--device", "cuda"), // the tool ships the CPU libtorch
            _ => Generate(temp, "--steps", "1", "--lora", WriteGarbage(temp)),
        };
        Assert.Equal(1, result.Code);
        Assert.Equal("", result.Out);
        string error = Assert.Single(result.ErrLines, l => !l.StartsWith("lorasdk generate: loading", System.StringComparison.Ordinal));
        Assert.StartsWith("lorasdk generate: ", error);
        Assert.Contains(message.Replace("TEMP", temp.Path), error);
        Assert.DoesNotContain("denied", error, System.StringComparison.OrdinalIgnoreCase);
        Assert.False(CliRun.HasStackTrace(result.Err));
        Assert.True(intact, "the existing PNG was changed");
    }

    [Fact]
    public void OutputThatIsADirectoryOrUnderAFileIsRefusedBeforeLoading()
    {
        using var temp = new TempFolder();
        var dir = CliRun.InProcess("generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--out", temp.Path);
        Assert.Equal(1, dir.Code);
        Assert.Equal($"lorasdk generate: --out {temp.Path}: is a directory; expected a .png file path", Assert.Single(dir.ErrLines));
        string file = Path.Combine(temp.Path, "file");
        File.WriteAllText(file, "x");
        var under = CliRun.InProcess("generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--out", Path.Combine(file, "x.png"));
        Assert.Equal(1, under.Code);
        Assert.Contains($"{file} is a file, not a folder", Assert.Single(under.ErrLines));
    }

    [Fact]
    public void ASizeThatDoesNotFitInMemoryIsRefusedWithExitThreeBeforeGenerating()
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "good.png");
        File.WriteAllBytes(png, ExistingPng);
        // 512 MiB available: a 4096 x 4096 image of the tiny model needs tens of GiB.
        var result = CliRun.InProcess(false, 512L << 20, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--seed", "1",
            "--width", "4096", "--height", "4096", "--out", png);
        Assert.Equal(3, result.Code);
        string error = result.ErrLines[^1];
        Assert.StartsWith("lorasdk generate: a 4096x4096 image with this model in float32 needs about ", error);
        Assert.Contains("but only 0.5 GiB is available to this process", error);
        Assert.DoesNotContain(result.ErrLines, l => l.Contains("step 1/", System.StringComparison.Ordinal));
        Assert.True(File.ReadAllBytes(png).SequenceEqual(ExistingPng));
    }

    [Fact]
    public void LatentsWithNonFiniteValuesAreRefused()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "nan.safetensors");
        using (var t = TorchSharp.torch.full(new long[] { 1, 4, 32, 32 }, float.NaN))
            LoraSdk.IO.SafetensorsWriter.Save(file, new[] { new System.Collections.Generic.KeyValuePair<string, TorchSharp.torch.Tensor>("latents", t) });
        var (result, intact) = GenerateWithoutSeed(temp, "--steps", "1", "--latents", file);
        Assert.Equal(1, result.Code);
        Assert.Contains("tensor 'latents' contains NaN or infinite values", result.ErrLines[^1]);
        Assert.True(intact);
    }

    private static (CliRun.Result Result, bool PngIntact) GenerateWithoutSeed(TempFolder temp, params string[] extra)
    {
        string png = Path.Combine(temp.Path, "good.png");
        File.WriteAllBytes(png, ExistingPng);
        var args = new[] { "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "a chair", "--out", png }.Concat(extra).ToArray();
        var result = CliRun.InProcess(args);
        return (result, File.ReadAllBytes(png).SequenceEqual(ExistingPng));
    }

    private static string WriteGarbage(TempFolder temp)
    {
        string path = Path.Combine(temp.Path, "garbage.safetensors");
        File.WriteAllBytes(path, new byte[] { 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3 });
        return path;
    }
}
