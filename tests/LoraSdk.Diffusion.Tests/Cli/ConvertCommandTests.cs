using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Flows;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// <c>lorasdk convert</c>: every SDXL layout of lora_a (kohya, old diffusers, hub text-encoder keys) becomes the file
/// diffusers wrote for it (lora_a.safetensors: same keys, same tensors bit for bit, same rank and alpha); kohya Flux
/// becomes diffusers' own conversion (<c>converted/flux_lora_a_kohya/*</c>); converted files load to the same images;
/// a PEFT folder converts with its config's alpha. Bad input: exit 1, nothing written.
/// </summary>
public sealed class ConvertCommandTests
{
    private static string Lora(string tag) => Path.Combine(RepoPaths.Loras, tag + ".safetensors");

    private static string FluxLora(string tag) => Path.Combine(RepoPaths.FixturesFlux, "loras", tag + ".safetensors");

    private static Dictionary<string, Tensor> ReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Keys.ToDictionary(k => k, k => file.Load(k).clone());
    }

    private static JsonValue Metadata(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return JsonValue.Parse(file.Header.Metadata["lora_adapter_metadata"]);
    }

    private static string Convert(TempFolder temp, string input, string name = "converted.safetensors")
    {
        string output = Path.Combine(temp.Path, name);
        var result = CliRun.InProcess("convert", input, "--out", output, "-q");
        Assert.True(result.Code == 0, result.Err);
        Assert.StartsWith($"wrote {output} (diffusers format; modules: ", result.Out.Trim());
        return output;
    }

    [Theory]
    [InlineData("lora_a_kohya")]
    [InlineData("lora_a_kohya_te_classic_keys")]
    [InlineData("lora_a_old_diffusers")]
    [InlineData("lora_a_te_classic_keys")]
    [InlineData("lora_a")]
    public void EverySdxlLayoutBecomesTheFileDiffusersWrote(string tag)
    {
        using var temp = new TempFolder();
        string output = Convert(temp, Lora(tag));
        var expected = ReadAll(Lora("lora_a"));
        var actual = ReadAll(output);
        try
        {
            Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (key, tensor) in expected) TensorAssert.Equal(actual[key], tensor, $"{tag} → {key}");
        }
        finally
        {
            foreach (var t in expected.Values.Concat(actual.Values)) t.Dispose();
        }
        var want = Metadata(Lora("lora_a"));
        var have = Metadata(output);
        foreach (var component in new[] { "unet", "text_encoder", "text_encoder_2" })
        {
            Assert.Equal(want[component + ".r"]!.AsInt64(), have[component + ".r"]!.AsInt64());
            Assert.Equal(want[component + ".lora_alpha"]!.AsDouble(), have[component + ".lora_alpha"]!.AsDouble());
            Assert.Equal(want[component + ".target_modules"]!.Items.Select(t => t.AsString()).OrderBy(t => t, StringComparer.Ordinal),
                have[component + ".target_modules"]!.Items.Select(t => t.AsString()).OrderBy(t => t, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void ConvertedKohyaFileGivesTheSameImageAsTheOriginal()
    {
        using var temp = new TempFolder();
        string converted = Convert(temp, Lora("lora_a_kohya"));
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadLoraWeights(Lora("lora_a_kohya"), "original");
        using var original = SeedFlows.Image(pipe);
        pipe.DeleteAdapters(new[] { "original" });
        pipe.LoadLoraWeights(converted, "converted");
        using var image = SeedFlows.Image(pipe);
        TensorAssert.Equal(image, original, "image with the converted file vs the kohya file");
    }

    [Fact]
    public void KohyaFluxFileBecomesDiffusersOwnConversion()
    {
        using var temp = new TempFolder();
        string output = Convert(temp, FluxLora("flux_lora_a_kohya"));
        var actual = ReadAll(output);
        try
        {
            const string prefix = "converted/flux_lora_a_kohya/";
            var golden = GoldenSet.Flux.Node("tensor_index").Properties.Select(p => p.Key).Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => k[prefix.Length..]).OrderBy(k => k, StringComparer.Ordinal).ToList();
            Assert.Equal(52, golden.Count);
            Assert.Equal(golden, actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var key in golden)
            {
                using var expected = GoldenSet.Flux.Tensor(prefix + key);
                TensorAssert.Equal(actual[key], expected, key);
            }
        }
        finally
        {
            foreach (var t in actual.Values) t.Dispose();
        }
        // diffusers folds alpha/rank into the weights and loads with lora_alpha = r.
        var metadata = Metadata(output);
        Assert.Equal(4, metadata["transformer.r"]!.AsInt64());
        Assert.Equal(4.0, metadata["transformer.lora_alpha"]!.AsDouble());

        // The converted file runs the pipeline to the same image as the kohya file.
        string png = Path.Combine(temp.Path, "x.png");
        Tensor Image(string lora, string name)
        {
            string tensorFile = Path.Combine(temp.Path, name);
            var result = CliRun.InProcess("generate", "--model", RepoPaths.TinyFlux, "--prompt", "a photo of a red fox sitting in the snow", "--steps", "2",
                "--height", "64", "--width", "64", "--max-sequence-length", "32", "--seed", "2000", "--lora", lora, "--out", png, "--save-tensor", tensorFile, "-q");
            Assert.True(result.Code == 0, result.Err);
            using var file = SafetensorsFile.Open(tensorFile);
            return file.Load("image").clone();
        }
        using var fromKohya = Image(FluxLora("flux_lora_a_kohya"), "kohya.safetensors");
        using var fromConverted = Image(output, "converted-image.safetensors");
        TensorAssert.Equal(fromConverted, fromKohya, "Flux image with the converted file vs the kohya file");
    }

    [Fact]
    public void PeftFolderConvertsWithItsConfigsAlpha()
    {
        using var temp = new TempFolder();
        string folder = Path.Combine(SeedFlows.PeftModel("ad", "ikea"), "ikea");
        string output = Convert(temp, folder);
        var metadata = Metadata(output);
        Assert.Equal(4, metadata["unet.r"]!.AsInt64());
        Assert.Equal(8.0, metadata["unet.lora_alpha"]!.AsDouble()); // adapter_config.json's, not the tensors' default

        using var fromFolder = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        fromFolder.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        using var fromFile = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        fromFile.LoadLoraWeights(output, "ikea");
        var expected = fromFolder.Lora["unet"].GetAdapterWeights("ikea").ToDictionary(kv => kv.Key, kv => kv.Value);
        var actual = fromFile.Lora["unet"].GetAdapterWeights("ikea");
        Assert.Equal(96, actual.Count);
        foreach (var (module, weights) in actual)
        {
            TensorAssert.Equal(weights.LowRank().A, expected[module].LowRank().A, module + ".lora_A");
            TensorAssert.Equal(weights.LowRank().B, expected[module].LowRank().B, module + ".lora_B");
            Assert.Equal(expected[module].Scaling, weights.Scaling);
        }
    }

    [Fact]
    public void BadInputsAreOneLineFailuresAndWriteNothing()
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "out.safetensors");
        void Fails(string[] args, string message)
        {
            var result = CliRun.InProcess(args);
            Assert.Equal(1, result.Code);
            Assert.Contains(message, Assert.Single(result.ErrLines));
            Assert.False(CliRun.HasStackTrace(result.Err));
            Assert.False(File.Exists(output));
        }
        // diffusers refuses this file on the tiny model (FLUX.1's fixed linear1 split); so do we.
        Fails(new[] { "convert", FluxLora("flux_lora_a_kohya_full"), "--out", output, "-q" }, "inconsistent LoRA module(s)");
        Fails(new[] { "convert", Path.Combine(temp.Path, "missing.safetensors"), "--out", output }, "missing.safetensors: not found");
        string pickle = Path.Combine(temp.Path, "model.bin");
        File.WriteAllBytes(pickle, new byte[] { 0x80, 0x02 });
        Fails(new[] { "convert", pickle, "--out", output, "-q" }, "'.bin' files are pickle-based");
        Fails(new[] { "convert", Lora("lora_a"), "--out", temp.Path }, "is a directory");
        var usage = CliRun.InProcess("convert", Lora("lora_a"));
        Assert.Equal(2, usage.Code);
        Assert.Contains("--out", usage.ErrLines[0]);
        Assert.StartsWith("usage: lorasdk convert <lora> --out <file.safetensors> [options]", usage.ErrLines[1]);
    }
}
