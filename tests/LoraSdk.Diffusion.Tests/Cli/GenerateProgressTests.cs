using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// What <c>lorasdk generate</c> prints while it works: stages and steps on stderr (plain lines when redirected, one
/// redrawn line on a terminal, nothing with --quiet), warnings always, the result on stdout.
/// </summary>
public sealed class GenerateProgressTests
{
    private static string[] Args(string png, params string[] extra) =>
        new[] { "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "a chair", "--seed", "1", "--steps", "2", "--out", png }.Concat(extra).ToArray();

    [Fact]
    public void RedirectedStderrGetsOneCompleteLinePerStageAndStep()
    {
        using var temp = new TempFolder();
        var result = CliRun.InProcess(false, null, Args(Path.Combine(temp.Path, "x.png"), "--lora", Path.Combine(RepoPaths.Loras, "lora_a.safetensors") + ":0.5"));
        Assert.True(result.Code == 0, result.Err);
        Assert.DoesNotContain('\r', result.Err);
        var lines = result.ErrLines;
        Assert.All(lines, l => Assert.StartsWith("lorasdk generate: ", l));
        Assert.Contains(lines, l => l.StartsWith($"lorasdk generate: loading model {RepoPaths.TinySdxlPrompt} (float32, cpu)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("lorasdk generate: loading LoRA 1/1 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^lorasdk generate: step 1/2 \(t=[0-9.]+\)$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^lorasdk generate: step 2/2 \(t=[0-9.]+\)$"));
        Assert.Contains("lorasdk generate: decoding with the VAE", lines);
        Assert.Equal($"wrote {Path.Combine(temp.Path, "x.png")} (64x64, 2 steps, guidance 5, seed 1, 1 LoRA)", result.Out.Trim());
    }

    [Fact]
    public void ATerminalGetsOneRedrawnStatusLineThatIsClearedAtTheEnd()
    {
        using var temp = new TempFolder();
        var result = CliRun.InProcess(true, null, Args(Path.Combine(temp.Path, "x.png")));
        Assert.True(result.Code == 0, result.Err);
        Assert.DoesNotContain('\n', result.Err);
        Assert.Contains("\r", result.Err, StringComparison.Ordinal);
        Assert.Contains("] step 2/2", result.Err, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[K", result.Err, StringComparison.Ordinal);
        Assert.All(result.Err.Split('\r', StringSplitOptions.RemoveEmptyEntries), s => Assert.True(s.Length <= 100 + 3, s));
    }

    [Fact]
    public void QuietPrintsNothingButTheResult()
    {
        using var temp = new TempFolder();
        var result = CliRun.InProcess(false, null, Args(Path.Combine(temp.Path, "x.png"), "--quiet"));
        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Err);
        Assert.StartsWith("wrote ", result.Out);
    }

    [Fact]
    public void AnOverlongPromptWarnsLikeDiffusersOnceAndStillGenerates()
    {
        using var temp = new TempFolder();
        string prompt = string.Concat(Enumerable.Repeat("a chair ", 1250));
        var result = CliRun.InProcess(false, null, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", prompt, "--seed", "1", "--steps", "1",
            "--quiet", "--out", Path.Combine(temp.Path, "long.png"));
        Assert.Equal(0, result.Code);
        // Both tokenizers cut the same text; the CLI prints a repeated warning once.
        var warning = Assert.Single(result.ErrLines);
        Assert.StartsWith("lorasdk generate: warning: The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ['chair a chair a", warning);
        Assert.EndsWith("…", warning);
        Assert.True(File.Exists(Path.Combine(temp.Path, "long.png")));
    }

    [Fact]
    public void PromptTwoAndNegativePromptTwoGiveTheLibrarysImage()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "image.safetensors");
        var result = CliRun.InProcess(false, null, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "a chair", "--prompt-2", "bears, pizza bites",
            "--negative-prompt", "", "--negative-prompt-2", "blurry", "--seed", "7", "--steps", "1", "--quiet",
            "--out", Path.Combine(temp.Path, "x.png"), "--save-tensor", file);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal(2, result.Out.Trim().Split('\n').Length);

        using var pipe = LoraSdk.Diffusion.Pipelines.StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        using var expected = pipe.Generate(new LoraSdk.Diffusion.Pipelines.StableDiffusionXLCallOptions
        {
            Prompt = "a chair", Prompt2 = "bears, pizza bites", NegativePrompt = "", NegativePrompt2 = "blurry", Seed = 7, NumInferenceSteps = 1,
        });
        using var other = pipe.Generate(new LoraSdk.Diffusion.Pipelines.StableDiffusionXLCallOptions { Prompt = "a chair", NegativePrompt = "", Seed = 7, NumInferenceSteps = 1 });
        using var saved = LoraSdk.IO.SafetensorsFile.Open(file);
        using var image = saved.Load("image");
        Assert.True(image.equal(expected.Images).all().item<bool>(), "the CLI image differs from the library call with prompt_2 / negative_prompt_2");
        Assert.False(image.equal(other.Images).all().item<bool>(), "prompt_2 / negative_prompt_2 made no difference");
    }
}
