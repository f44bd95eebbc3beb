using System.Collections.Generic;
using System.IO;
using LoraSdk.Cli.Commands;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary><c>lorasdk generate</c> on the embedded tiny model: outputs equal the library call; errors are one line.</summary>
public sealed class GenerateCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenerateCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void SeededRunWritesPngAndTheNpLayoutTensorEqualToTheLibrary()
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "out.png");
        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        var (code, output, err) = Run("--model", RepoPaths.TinySdxlPrompt, "--prompt", "bears, pizza bites", "--negative-prompt", "",
            "--steps", "4", "--guidance", "5", "--seed", "1000", "--out", png, "--save-tensor", tensorFile);
        Assert.True(code == 0, err);
        Assert.Contains("out.png", output);
        Assert.True(File.Exists(png));
        using var file = SafetensorsFile.Open(tensorFile);
        using var image = file.Load("image");
        Assert.Equal(new long[] { 1, 64, 64, 3 }, image.shape);
        using var expected = GoldenSet.Prompt.Tensor("base/p0_neg_empty/image");
        TensorAssert.Close(image, expected, "generate --seed 1000 vs diffusers base/p0_neg_empty/image");
    }

    [Fact]
    public void LatentsFileAndLoraWithRuntimeScaleMatchTheGoldens()
    {
        using var temp = new TempFolder();
        string latentsFile = Path.Combine(temp.Path, "latents.safetensors");
        using (var init = GoldenSet.Prompt.Tensor("latents_init/seed_1000"))
            SafetensorsWriter.Save(latentsFile, new[] { new KeyValuePair<string, Tensor>("latents", init) });
        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        var (code, _, err) = Run("--model", RepoPaths.TinySdxlPrompt, "--prompt", "bears, pizza bites", "--negative-prompt", "blurry, low quality",
            "--steps", "4", "--latents", latentsFile, "--lora", Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "--scale", "0.5",
            "--out", Path.Combine(temp.Path, "x.png"), "--save-tensor", tensorFile);
        Assert.True(code == 0, err);
        using var file = SafetensorsFile.Open(tensorFile);
        using var image = file.Load("image");
        using var expected = GoldenSet.Prompt.Tensor("lora_a_scale_0.5/p0_neg_blurry/image");
        TensorAssert.Close(image, expected, "generate --lora lora_a --scale 0.5");
    }

    [Fact]
    public void TwoLorasWithWeightsMatchTheSetAdaptersGolden()
    {
        using var temp = new TempFolder();
        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        var (code, _, err) = Run("--model", RepoPaths.TinySdxlPrompt, "--prompt", "bears, pizza bites", "--steps", "4", "--seed", "1000",
            "--lora", Path.Combine(RepoPaths.Loras, "lora_a.safetensors") + ":0.7", "--lora=" + Path.Combine(RepoPaths.Loras, "lora_b.safetensors") + ":0.8",
            "--out", Path.Combine(temp.Path, "x.png"), "--save-tensor", tensorFile);
        Assert.True(code == 0, err);
        using var file = SafetensorsFile.Open(tensorFile);
        using var image = file.Load("image");
        using var expected = GoldenSet.Prompt.Tensor("lora_ab_0.7_0.8/p0_neg_none/image");
        TensorAssert.Close(image, expected, "generate --lora a:0.7 --lora b:0.8 (negative prompt none)");
    }

    [Fact]
    public void MissingModelIsAOneLineFailure()
    {
        var (code, _, err) = Run("--model", "/nonexistent/model", "--prompt", "x", "--out", "/tmp/never.png");
        Assert.Equal(1, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("model_index.json", err);
    }

    [Fact]
    public void LatentsWithoutTheLatentsTensorIsAOneLineFailure()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "wrong.safetensors");
        using (var t = zeros(1, 4, 32, 32)) SafetensorsWriter.Save(file, new[] { new KeyValuePair<string, Tensor>("noise", t) });
        var (code, _, err) = Run("--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--steps", "1", "--latents", file, "--out", Path.Combine(temp.Path, "x.png"));
        Assert.Equal(1, code);
        Assert.Contains("'latents'", err);
    }

    [Theory]
    [InlineData("--steps", "zero")]
    [InlineData("--dtype", "int8")]
    [InlineData("--bogus", "1")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        var (code, _, err) = Run("--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--out", "/tmp/x.png", option, value);
        Assert.Equal(2, code);
        Assert.Contains("usage: lorasdk generate", err);
    }

    [Fact]
    public void LoraSpecSplitsOnlyANumericWeight()
    {
        Assert.Equal(new LoraSpec("a.safetensors", 0.7), LoraSpec.Parse("a.safetensors:0.7"));
        Assert.Equal(new LoraSpec("C:/x/a.safetensors", 1.0), LoraSpec.Parse("C:/x/a.safetensors"));
        Assert.Equal(new LoraSpec("dir:name/a.safetensors", 1.0), LoraSpec.Parse("dir:name/a.safetensors"));
        Assert.Equal(new LoraSpec("a.safetensors", -1.5e-1), LoraSpec.Parse("a.safetensors:-1.5e-1"));
        var negativeZero = LoraSpec.Parse("a.safetensors:-0");
        Assert.Equal(0.0, negativeZero.Weight);
    }

    [Theory]
    [InlineData("a.safetensors:nan")]
    [InlineData("a.safetensors:NaN")]
    [InlineData("a.safetensors:inf")]
    [InlineData("a.safetensors:-inf")]
    [InlineData("a.safetensors:Infinity")]
    [InlineData("a.safetensors:-Infinity")]
    [InlineData("a.safetensors:1e999")]
    [InlineData("")]
    public void LoraSpecRefusesNonFiniteWeights(string spec)
    {
        Assert.False(LoraSpec.TryParse(spec, out _, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
