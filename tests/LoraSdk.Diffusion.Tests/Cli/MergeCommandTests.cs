using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Flows;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// <c>lorasdk merge</c>: PEFT's add_weighted_adapter from the command line. The merged factors equal PEFT's (tests/fixtures
/// <c>merge/*</c>, bit for bit for the factor types, whose arithmetic depends on no CPU kernel; B·A within 1e-4 for svd),
/// with and without <c>--model</c>; the guide's merge on the PEFT folders gives the library's image; usage errors are
/// exit 2 and failures exit 1, both with nothing written.
/// </summary>
public sealed class MergeCommandTests
{
    private readonly ITestOutputHelper _output;

    public MergeCommandTests(ITestOutputHelper output) => _output = output;

    private static string Lora(string name) => Path.Combine(RepoPaths.Loras, name + ".safetensors");

    private static string Folder(string pair, string name) => Path.Combine(SeedFlows.PeftModel(pair, name), name);

    /// <summary>The tensors of a diffusers-format file by key.</summary>
    private static Dictionary<string, Tensor> ReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Keys.ToDictionary(k => k, k => file.Load(k).clone());
    }

    [Theory]
    [InlineData("ad_linear", "linear", null)]
    [InlineData("ad_cat", "cat", null)]
    [InlineData("ad_ties", "ties", "0.5")]
    [InlineData("ad_magnitude_prune", "magnitude_prune", "0.5")]
    [InlineData("ad_dare_linear", "dare_linear", "0.5")]
    [InlineData("ad_dare_ties", "dare_ties", "0.5")]
    public void MergedFactorsArePeftsBitForBitWithoutAModel(string golden, string type, string? density)
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "merged.safetensors");
        var args = new List<string> { "merge", "--lora", Lora("lora_a"), "--lora", Lora("lora_d"), "--weights", "1.0,0.5", "--combination", type, "--out", output, "-q" };
        if (density is not null) args.AddRange(new[] { "--density", density });
        if (type.StartsWith("dare", System.StringComparison.Ordinal)) args.AddRange(new[] { "--seed", "0" });
        var result = CliRun.InProcess(args.ToArray());
        Assert.True(result.Code == 0, result.Err);
        // lora_a's text-encoder parts are not merged, and the user is told.
        Assert.Contains("text_encoder part is not merged", result.Err);

        var tensors = ReadAll(output);
        try
        {
            var modules = tensors.Keys.Where(k => k.EndsWith(".lora_A.weight", System.StringComparison.Ordinal)).ToList();
            Assert.Equal(96, modules.Count);
            Assert.All(tensors.Keys, k => Assert.StartsWith("unet.", k));
            foreach (var key in modules)
            {
                string module = key["unet.".Length..^".lora_A.weight".Length];
                using var a = GoldenSet.Reference.Tensor($"merge/{golden}/{module}.lora_A");
                using var b = GoldenSet.Reference.Tensor($"merge/{golden}/{module}.lora_B");
                TensorAssert.Equal(tensors[key], a, $"{golden} {module}.lora_A");
                TensorAssert.Equal(tensors[$"unet.{module}.lora_B.weight"], b, $"{golden} {module}.lora_B");
            }
            var config = GoldenSet.Reference.Node("merges", "results", golden, "merged_config");
            var metadata = Metadata(output);
            Assert.Equal(config["r"]!.AsInt64(), metadata["unet.r"]!.AsInt64());
            Assert.Equal(config["lora_alpha"]!.AsDouble(), metadata["unet.lora_alpha"]!.AsDouble());
            _output.WriteLine($"{golden}: 96 modules bit for bit, r {metadata["unet.r"]!.AsInt64()}, lora_alpha {metadata["unet.lora_alpha"]!.AsDouble()}");
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    [Fact]
    public void SvdMergeMatchesPeftsProductsWithinTolerance()
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "svd.safetensors");
        var result = CliRun.InProcess("merge", "--lora", Lora("lora_a"), "--lora", Lora("lora_d"), "--weights", "1.0,0.5", "--combination", "svd",
            "--svd-rank", "4", "--out", output, "-q");
        Assert.True(result.Code == 0, result.Err);
        var tensors = ReadAll(output);
        double worst = 0;
        try
        {
            foreach (var key in tensors.Keys.Where(k => k.EndsWith(".lora_A.weight", System.StringComparison.Ordinal)))
            {
                using var scope = NewDisposeScope();
                string module = key["unet.".Length..^".lora_A.weight".Length];
                var expected = GoldenSet.Reference.Tensor($"merge/ad_svd/{module}.lora_B").matmul(GoldenSet.Reference.Tensor($"merge/ad_svd/{module}.lora_A"));
                var actual = tensors[$"unet.{module}.lora_B.weight"].matmul(tensors[key]);
                worst = System.Math.Max(worst, TensorAssert.Close(actual, expected, $"ad_svd {module} B·A").Relative);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        _output.WriteLine($"ad_svd: worst relative error of B·A {worst:E3} (tolerance 1e-4)");
    }

    /// <summary>
    /// The seed-flows check's call (the guide's merge of the PEFT folders, weights 1.0/1.0, density 0.5, seed 0): the
    /// file is the library's merge on the real model bit for bit, with and without <c>--model</c>, and its image through
    /// <c>generate --lora</c> is the library's image. (tests/fixtures-seed-flows' golden for this merge is the adapter PEFT
    /// left behind after the failed call without density, not a DARE merge: see PeftFolderFlowTests.)
    /// </summary>
    [Fact]
    public void TheGuidesMergeOfPeftFoldersIsTheLibrarysMergeAndImage()
    {
        using var temp = new TempFolder();
        string withoutModel = Path.Combine(temp.Path, "merged.safetensors");
        string withModel = Path.Combine(temp.Path, "merged-model.safetensors");
        string[] common = { "merge", "--lora", Folder("ad", "ikea"), "--lora", Folder("ad", "feng"), "--weights", "1.0,1.0", "--combination", "dare_linear",
            "--density", "0.5", "--seed", "0", "--name", "ikea-feng", "-q" };
        var first = CliRun.InProcess(common.Concat(new[] { "--out", withoutModel }).ToArray());
        Assert.True(first.Code == 0, first.Err);
        Assert.Equal($"wrote {withoutModel} (dare_linear of 2 LoRA(s), unet 96 modules, rank 4, seed 0)", first.Out.Trim());
        var second = CliRun.InProcess(common.Concat(new[] { "--model", RepoPaths.TinySdxlPrompt, "--out", withModel }).ToArray());
        Assert.True(second.Code == 0, second.Err);

        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
        pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0 });
        var a = ReadAll(withoutModel);
        var b = ReadAll(withModel);
        try
        {
            Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
            int count = 0;
            foreach (var (module, weights) in pipe.Lora["unet"].GetAdapterWeights("ikea-feng"))
            {
                TensorAssert.Equal(a[$"unet.{module}.lora_A.weight"], weights.LowRank().A, $"{module}.lora_A (no model)");
                TensorAssert.Equal(a[$"unet.{module}.lora_B.weight"], weights.LowRank().B, $"{module}.lora_B (no model)");
                TensorAssert.Equal(b[$"unet.{module}.lora_A.weight"], weights.LowRank().A, $"{module}.lora_A (--model)");
                TensorAssert.Equal(b[$"unet.{module}.lora_B.weight"], weights.LowRank().B, $"{module}.lora_B (--model)");
                count++;
            }
            Assert.Equal(96, count);
        }
        finally
        {
            foreach (var t in a.Values.Concat(b.Values)) t.Dispose();
        }

        pipe.SetAdapters(new[] { "ikea-feng" });
        using var expected = SeedFlows.Image(pipe);
        string tensorFile = Path.Combine(temp.Path, "image.safetensors");
        var generated = CliRun.InProcess("generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", SeedFlows.Prompt, "--negative-prompt", "",
            "--steps", "4", "--guidance", "5", "--seed", "2002", "--lora", withoutModel, "--out", Path.Combine(temp.Path, "x.png"),
            "--save-tensor", tensorFile, "-q");
        Assert.True(generated.Code == 0, generated.Err);
        using var file = SafetensorsFile.Open(tensorFile);
        using var image = file.Load("image");
        TensorAssert.Equal(image, expected, "generate --lora <merged file> vs the library's merged adapter");
    }

    [Fact]
    public void PeftFolderOutputLoadsBackToTheSameAdapter()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "merged.safetensors");
        string folder = Path.Combine(temp.Path, "merged-peft");
        string[] common = { "merge", "--lora", Folder("ad", "ikea"), "--lora", Folder("ad", "feng"), "--combination", "linear", "--name", "ikea-feng", "-q" };
        Assert.Equal(0, CliRun.InProcess(common.Concat(new[] { "--out", file }).ToArray()).Code);
        var peft = CliRun.InProcess(common.Concat(new[] { "--peft", "--out", folder }).ToArray());
        Assert.True(peft.Code == 0, peft.Err);
        Assert.True(File.Exists(Path.Combine(folder, "ikea-feng", "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(folder, "ikea-feng", "adapter_model.safetensors")));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".merged-peft*"));

        // Written again over itself (a PEFT folder may be replaced); the default name writes PEFT's root layout.
        var again = CliRun.InProcess("merge", "--lora", Folder("ad", "ikea"), "--lora", Folder("ad", "feng"), "--combination", "linear", "--peft", "--out", folder, "-q");
        Assert.True(again.Code == 0, again.Err);
        Assert.True(File.Exists(Path.Combine(folder, "adapter_config.json")));
        Assert.False(Directory.Exists(Path.Combine(folder, "ikea-feng")));

        using var fromFile = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        fromFile.LoadLoraWeights(file, "m");
        using var fromFolder = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        fromFolder.LoadLoraWeights(folder, "m");
        var expected = fromFile.Lora["unet"].GetAdapterWeights("m").ToDictionary(kv => kv.Key, kv => kv.Value);
        var actual = fromFolder.Lora["unet"].GetAdapterWeights("m");
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (module, weights) in actual)
        {
            TensorAssert.Equal(weights.LowRank().A, expected[module].LowRank().A, module + ".lora_A");
            TensorAssert.Equal(weights.LowRank().B, expected[module].LowRank().B, module + ".lora_B");
            Assert.Equal(expected[module].Scaling, weights.Scaling);
        }
    }

    [Theory]
    [InlineData(new[] { "--combination", "dare_linear" }, "--density is required for --combination dare_linear")]
    [InlineData(new[] { "--combination", "ties" }, "--density is required for --combination ties")]
    [InlineData(new[] { "--combination", "linear", "--density", "0.5" }, "--density applies to the pruning types")]
    [InlineData(new[] { "--combination", "linear", "--weights", "1.0" }, "--weights has 1 value(s) but there are 2 --lora")]
    [InlineData(new[] { "--combination", "linear", "--weights", "1.0,nan" }, "--weights must be finite numbers")]
    [InlineData(new[] { "--combination", "linear", "--svd-rank", "4" }, "--svd-rank applies to the svd types")]
    [InlineData(new[] { "--combination", "linear", "--seed", "0" }, "--seed applies to the DARE types")]
    [InlineData(new[] { "--combination", "svd", "--majority-sign", "total" }, "--majority-sign applies to the ties types")]
    [InlineData(new[] { "--combination", "dare_ties", "--density", "0.5", "--majority-sign", "most" }, "--majority-sign must be one of total, frequency")]
    [InlineData(new[] { "--combination", "dare_linear", "--density", "0" }, "--density must be greater than 0")]
    [InlineData(new[] { "--combination", "dare_linear", "--density", "1.5" }, "--density must be between 0 and 1")]
    [InlineData(new[] { "--combination", "average" }, "--combination must be one of")]
    [InlineData(new[] { "--combination", "linear", "--name", "../x" }, "--name must be a plain adapter name")]
    [InlineData(new string[0], "--combination")]
    public void UsageErrorsAreExitTwoAndWriteNothing(string[] extra, string message)
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "merged.safetensors");
        var args = new[] { "merge", "--lora", Lora("lora_a"), "--lora", Lora("lora_d"), "--out", output }.Concat(extra).ToArray();
        var result = CliRun.InProcess(args);
        Assert.Equal(2, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.StartsWith("lorasdk merge: ", result.ErrLines[0]);
        Assert.Contains(message, result.ErrLines[0]);
        Assert.StartsWith("usage: lorasdk merge --lora <path> --combination <type> --out <file.safetensors|folder> [options]", result.ErrLines[1]);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData(":0.5")]
    [InlineData(":1")]
    [InlineData(":nan")]
    public void AWeightAfterTheLoraPathIsAUsageErrorPointingToWeights(string suffix)
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "merged.safetensors");
        var result = CliRun.InProcess("merge", "--lora", Lora("lora_a") + suffix, "--lora", Lora("lora_d"), "--combination", "linear", "--out", output);
        Assert.Equal(2, result.Code);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.Equal($"lorasdk merge: --lora {Lora("lora_a")}{suffix}: merge takes no weight after the path; give the adapters' weights with --weights " +
                     $"(one per --lora, e.g. --weights 0.5,1.0) and the path alone (--lora {Lora("lora_a")})", result.ErrLines[0]);
        Assert.StartsWith("usage: lorasdk merge ", result.ErrLines[1]);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void AnExistingFileWhoseNameEndsLikeAWeightIsAPath()
    {
        if (System.OperatingSystem.IsWindows()) return; // ':' cannot be in a Windows file name
        using var temp = new TempFolder();
        string odd = Path.Combine(temp.Path, "lora_a.safetensors:0.5");
        File.Copy(Lora("lora_a"), odd);
        string output = Path.Combine(temp.Path, "merged.safetensors");
        var result = CliRun.InProcess("merge", "--lora", odd, "--lora", Lora("lora_d"), "--combination", "linear", "--out", output, "-q");
        Assert.True(result.Code == 0, result.Err);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void UnequalRanksAreRefusedWithPeftsMessageAndNothingWritten()
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "bad.safetensors");
        var result = CliRun.InProcess("merge", "--lora", Folder("ab", "ikea"), "--lora", Folder("ab", "feng"), "--weights", "1.0,1.0",
            "--combination", "dare_linear", "--density", "0.5", "--seed", "0", "--out", output, "-q");
        Assert.Equal(1, result.Code);
        var raised = GoldenSet.SeedFlows.Node("flows", "peft_folders_ab", "add_weighted_adapter_raised");
        string line = Assert.Single(result.ErrLines);
        Assert.StartsWith("lorasdk merge: the adapters' ranks differ (", line);
        Assert.Contains("ikea: rank 4; ", line);
        Assert.Contains("feng: rank 8) and dare_linear needs equal ranks", line);
        Assert.EndsWith(": " + raised["message"]!.AsString(), line);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void BadInputsAreOneLineFailuresAndWriteNothing()
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "merged.safetensors");
        void Fails(string[] args, string message)
        {
            var result = CliRun.InProcess(args);
            Assert.Equal(1, result.Code);
            Assert.Contains(message, Assert.Single(result.ErrLines));
            Assert.False(CliRun.HasStackTrace(result.Err));
            Assert.False(File.Exists(output));
        }
        Fails(new[] { "merge", "--lora", Lora("lora_a"), "--lora", Path.Combine(temp.Path, "nope.safetensors"), "--combination", "linear", "--out", output },
            "nope.safetensors: not found");
        Fails(new[] { "merge", "--lora", Lora("lora_a"), "--combination", "linear", "--out", temp.Path }, "is a directory");
        // An SDXL and a Flux LoRA: different denoisers.
        Fails(new[] { "merge", "--lora", Lora("lora_a"), "--lora", Path.Combine(RepoPaths.FixturesFlux, "loras", "flux_lora_a.safetensors"),
            "--combination", "cat", "--out", output, "-q" }, "is a transformer LoRA, but the first is a unet LoRA");
        // A PEFT output folder must not clobber an unrelated folder.
        string unrelated = Path.Combine(temp.Path, "photos");
        Directory.CreateDirectory(unrelated);
        File.WriteAllText(Path.Combine(unrelated, "cat.jpg"), "not a LoRA");
        var result = CliRun.InProcess("merge", "--lora", Lora("lora_a"), "--combination", "linear", "--peft", "--out", unrelated);
        Assert.Equal(1, result.Code);
        Assert.Contains("is not a PEFT adapter folder; refusing to replace it", Assert.Single(result.ErrLines));
        Assert.Equal(new[] { Path.Combine(unrelated, "cat.jpg") }, Directory.GetFileSystemEntries(unrelated));
    }

    /// <summary>The <c>lora_adapter_metadata</c> of a diffusers-format file.</summary>
    private static JsonValue Metadata(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return JsonValue.Parse(file.Header.Metadata["lora_adapter_metadata"]);
    }
}
