using System.IO;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// A bad model config given to <c>inspect</c> or <c>convert</c> (<c>--base-config</c>, its alias <c>--unet-config</c>,
/// <c>--text-encoder-config</c>) — missing, a folder, not JSON, not an object, a config of another class, invalid
/// fields — is one line (exit 1) that names the option and the file, and <c>convert</c> writes nothing.
/// </summary>
public sealed class ConfigFileErrorsTests
{
    private static string LoraA => Path.Combine(RepoPaths.Loras, "lora_a.safetensors");

    /// <summary>Writes the config case into <paramref name="folder"/> and returns its path and the expected reason.</summary>
    private static (string Path, string Reason) Case(string folder, string what)
    {
        string path = Path.Combine(folder, what + ".json");
        switch (what)
        {
            case "missing":
                return (path, "file not found (expected a UNet or Flux transformer config.json)");
            case "folder":
                Directory.CreateDirectory(path);
                return (path, "is a directory; expected a UNet or Flux transformer config.json");
            case "not-json":
                File.WriteAllText(path, "{bad");
                return (path, "not valid JSON: ");
            case "array":
                File.WriteAllText(path, "[1, 2]");
                return (path, "not a config (the JSON is not an object)");
            case "text-encoder":
                File.Copy(Path.Combine(RepoPaths.TinySdxlPrompt, "text_encoder", "config.json"), path);
                return (path, "is a config for CLIPTextModel (its architectures); expected a UNet2DConditionModel or FluxTransformer2DModel config.json");
            case "vae":
                File.Copy(Path.Combine(RepoPaths.TinySdxlPrompt, "vae", "config.json"), path);
                return (path, "is a config for AutoencoderKL (its _class_name); expected a UNet2DConditionModel or FluxTransformer2DModel config.json");
            case "model-index":
                File.Copy(Path.Combine(RepoPaths.TinySdxlPrompt, "model_index.json"), path);
                return (path, "is a config for StableDiffusionXLPipeline (its _class_name); expected a UNet2DConditionModel or FluxTransformer2DModel config.json");
            case "bad-unet":
                File.WriteAllText(path, "{\"_class_name\": \"UNet2DConditionModel\", \"down_block_types\": 3}");
                return (path, "'down_block_types' must be an array of strings");
            default:
                throw new System.ArgumentException(what);
        }
    }

    [Theory]
    [InlineData("missing", "--base-config")]
    [InlineData("folder", "--unet-config")]
    [InlineData("not-json", "--base-config")]
    [InlineData("not-json", "--unet-config")]
    [InlineData("array", "--base-config")]
    [InlineData("text-encoder", "--unet-config")]
    [InlineData("vae", "--base-config")]
    [InlineData("model-index", "--base-config")]
    [InlineData("bad-unet", "--unet-config")]
    public void InspectNamesTheConfigFile(string what, string option)
    {
        using var temp = new TempFolder();
        var (path, reason) = Case(temp.Path, what);
        var result = CliRun.InProcess("inspect", LoraA, option, path);
        Assert.Equal(1, result.Code);
        Assert.Equal("", result.Out);
        string line = Assert.Single(result.ErrLines);
        Assert.StartsWith($"lorasdk inspect: {option} {path}: ", line);
        Assert.Contains(reason, line);
        Assert.False(CliRun.HasStackTrace(result.Err));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("folder")]
    [InlineData("not-json")]
    [InlineData("array")]
    [InlineData("text-encoder")]
    [InlineData("vae")]
    [InlineData("model-index")]
    [InlineData("bad-unet")]
    public void ConvertNamesTheConfigFileAndWritesNothing(string what)
    {
        using var temp = new TempFolder();
        var (path, reason) = Case(temp.Path, what);
        string output = Path.Combine(temp.Path, "out.safetensors");
        var result = CliRun.InProcess("convert", LoraA, "--base-config", path, "--out", output);
        Assert.Equal(1, result.Code);
        string line = Assert.Single(result.ErrLines);
        Assert.StartsWith($"lorasdk convert: --base-config {path}: ", line);
        Assert.Contains(reason, line);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ATextEncoderConfigErrorNamesItsOption()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "te.json");
        File.WriteAllText(path, "{\"num_hidden_layers\": -1}");
        var result = CliRun.InProcess("inspect", LoraA, "--text-encoder-2-config", path);
        Assert.Equal(1, result.Code);
        Assert.StartsWith($"lorasdk inspect: --text-encoder-2-config {path}: ", Assert.Single(result.ErrLines));
    }

    [Fact]
    public void AValidUnetOrTransformerConfigStillWorks()
    {
        var unet = CliRun.InProcess("inspect", LoraA, "--base-config", Path.Combine(RepoPaths.TinySdxlPrompt, "unet", "config.json"), "--json");
        Assert.True(unet.Code == 0, unet.Err);
        var flux = CliRun.InProcess("inspect", Path.Combine(RepoPaths.FixturesFlux, "loras", "flux_lora_a.safetensors"),
            "--unet-config", Path.Combine(RepoPaths.TinyFlux, "transformer", "config.json"), "--json");
        Assert.True(flux.Code == 0, flux.Err);
        Assert.Contains("\"transformer\"", flux.Out);
    }
}
