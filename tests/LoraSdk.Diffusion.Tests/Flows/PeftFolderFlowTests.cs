using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Merging;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Flows;

/// <summary>
/// The guide's merge section on PEFT adapter folders (tests/fixtures-seed-flows, section 1): the folders PEFT's
/// save_pretrained wrote for <c>ikea</c> and <c>feng</c> (adapters in subfolders named after them) loaded with
/// <c>subfolder</c> into the pipeline's UNet, their images, the <c>dare_linear</c> merge from seed 0 (PEFT's factors bit
/// for bit) and PEFT's errors (the guide's call without <c>density</c>; ranks 4 and 8). Tolerance: 1e-4 relative
/// (max |Δ| / max |golden|) on the float32 images.
/// </summary>
public sealed class PeftFolderFlowTests
{
    private readonly ITestOutputHelper _output;

    public PeftFolderFlowTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("ad")]
    [InlineData("ab")]
    public void PeftFoldersLoadedWithSubfolderGiveTheirImages(string pair)
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        var ikea = pipe.LoadPeftAdapter(SeedFlows.PeftModel(pair, "ikea"), subfolder: "ikea", adapterName: "ikea");
        var feng = pipe.LoadPeftAdapter(SeedFlows.PeftModel(pair, "feng"), subfolder: "feng", adapterName: "feng");
        Assert.Equal("ikea", ikea.AdapterNames["unet"]);
        Assert.Empty(ikea.Warnings);
        Assert.Empty(feng.Warnings);
        Assert.Equal(96, ikea.ModuleCounts["unet"]);
        Assert.Equal(new[] { "unet" }, pipe.GetListAdapters().Keys);
        Assert.Equal(new[] { "ikea", "feng" }, pipe.GetListAdapters()["unet"]);

        // adapter_config.json decides alpha: lora_alpha 8 over r 4 (ad), 4 over r 8 for feng in ab.
        var unet = pipe.Lora["unet"];
        Assert.Equal(8, unet.GetAdapterConfig("ikea").LoraAlpha);
        double fengScaling = pair == "ad" ? 2.0 : 0.5;
        var fengLayers = unet.GetScalings().Where(l => l.Value.Any(s => s.Key == "feng")).ToList();
        Assert.Equal(feng.ModuleCounts["unet"], fengLayers.Count);
        Assert.All(fengLayers, layer => Assert.Equal(fengScaling, layer.Value.Single(s => s.Key == "feng").Value));

        // model.set_adapter("ikea") / ("feng"): one active adapter at a time.
        foreach (var name in new[] { "ikea", "feng" })
        {
            pipe.SetAdapters(new[] { name });
            using var image = SeedFlows.Image(pipe);
            _output.WriteLine($"peft_folders_{pair}/{name}/image: {SeedFlows.AssertGolden(image, $"peft_folders_{pair}/{name}/image")}");
        }
    }

    /// <summary>
    /// DARE from seed 0 on adapters loaded from PEFT folders is PEFT's merge bit for bit: <c>dare_linear</c> of ikea
    /// (lora_a) and feng (lora_d) with weights [1.0, 0.5] against the factors PEFT computed for the same adapters
    /// (tests/fixtures <c>merge/ad_dare_linear</c>; the factors depend on no CPU kernel).
    /// </summary>
    [Fact]
    public void DareLinearMergeOfTheFoldersFromSeedZeroHasPeftsFactorsBitForBit()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
        pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 0.5 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0 });
        int count = 0;
        foreach (var (module, weights) in pipe.Lora["unet"].GetAdapterWeights("ikea-feng"))
        {
            using var a = GoldenSet.Reference.Tensor($"merge/ad_dare_linear/{module}.lora_A");
            using var b = GoldenSet.Reference.Tensor($"merge/ad_dare_linear/{module}.lora_B");
            TensorAssert.Equal(weights.LowRank().A, a, $"{module}.lora_A");
            TensorAssert.Equal(weights.LowRank().B, b, $"{module}.lora_B");
            count++;
        }
        Assert.Equal(96, count);
    }

    /// <summary>
    /// The guide's merge (weights [1.0, 1.0], density 0.5, seed 0) on the PEFT folders: PEFT's merged config (r 4,
    /// lora_alpha 4, the union of the targets) and the same adapter, bit for bit, as merging the LoRA files the folders
    /// were made from (lora_a, lora_d) — the folder's config and the file's metadata describe the same adapters.
    /// </summary>
    [Fact]
    public void TheGuidesMergeOnTheFoldersEqualsTheMergeOfTheirLoraFiles()
    {
        var options = new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0 };
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
        pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng", options);
        var merged = pipe.Lora["unet"].GetAdapterConfig("ikea-feng");
        var expected = GoldenSet.SeedFlows.Node("flows", "peft_folders_ad", "merged_config");
        Assert.Equal(expected["r"]!.AsInt64(), merged.R);
        Assert.Equal(expected["lora_alpha"]!.AsDouble(), merged.LoraAlpha);
        Assert.Equal(expected["target_modules"]!.Items.Select(t => t.AsString()).OrderBy(t => t, System.StringComparer.Ordinal),
            merged.TargetModules.OrderBy(t => t, System.StringComparer.Ordinal));

        using var files = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        files.LoadLoraWeights(System.IO.Path.Combine(RepoPaths.Loras, "lora_a.safetensors"), "ikea");
        files.LoadLoraWeights(System.IO.Path.Combine(RepoPaths.Loras, "lora_d.safetensors"), "feng");
        files.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng", options);
        var fromFiles = files.Lora["unet"].GetAdapterWeights("ikea-feng").ToDictionary(kv => kv.Key, kv => kv.Value);
        var fromFolders = pipe.Lora["unet"].GetAdapterWeights("ikea-feng");
        Assert.Equal(fromFiles.Count, fromFolders.Count);
        foreach (var (module, weights) in fromFolders)
        {
            TensorAssert.Equal(weights.LowRank().A, fromFiles[module].LowRank().A, $"{module}.lora_A");
            TensorAssert.Equal(weights.LowRank().B, fromFiles[module].LowRank().B, $"{module}.lora_B");
        }

        pipe.SetAdapters(new[] { "ikea-feng" });
        files.SetAdapters(new[] { "ikea-feng" });
        using var image = SeedFlows.Image(pipe);
        using var fileImage = SeedFlows.Image(files);
        TensorAssert.Equal(image, fileImage, "merged image, PEFT folders vs LoRA files");
    }

    /// <summary>
    /// What <c>peft_folders_ad/ikea-feng_dare_linear/image</c> really shows. The guide's call without <c>density</c>
    /// makes PEFT register "ikea-feng" and create its layers (random <c>nn.Linear</c> initialisation from seed 0, since
    /// the config copied from ikea has <c>init_lora_weights</c> false), zero the first layer's factors and then raise
    /// TypeError; the retry with <c>density=0.5</c> returns at once because the name exists. The golden is that leftover
    /// adapter, rebuilt here from torch's generator (≤ 1e-4), not a DARE merge: the engine refuses the call without
    /// density before changing anything, so its retry merges — and gives another image.
    /// </summary>
    [Fact]
    public void TheMergeGoldenIsTheAdapterPeftLeftAfterTheFailedCall()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
        var unet = pipe.Lora["unet"];

        // PEFT's inject_adapter for "ikea-feng" after torch.manual_seed(0): per layer in module order, nn.Linear(in, 4)
        // then nn.Linear(4, out), each kaiming_uniform_(a=sqrt(5)); then the first layer's factors are zeroed.
        var modules = new System.Collections.Generic.List<LoraModuleTensors>();
        using (var generator = new TorchSharp.torch.Generator(0, TorchSharp.torch.CPU))
        {
            foreach (var (module, weights) in unet.GetAdapterWeights("ikea"))
            {
                long inFeatures = weights.LowRank().A.shape[1], outFeatures = weights.LowRank().B.shape[0];
                var a = TorchSharp.torch.empty(new long[] { 4, inFeatures }).uniform_(-KaimingBound(inFeatures), KaimingBound(inFeatures), generator);
                var b = TorchSharp.torch.empty(new long[] { outFeatures, 4 }).uniform_(-KaimingBound(4), KaimingBound(4), generator);
                if (modules.Count == 0)
                {
                    a.zero_();
                    b.zero_();
                }
                modules.Add(new LoraModuleTensors(module, a, b, alpha: 4, rank: 4));
            }
        }
        unet.AddAdapter("peft-leftover", new LoraAdapterDefinition(modules, LoraAdapterConfig.Create(4, 4, new[] { "to_k", "to_out.0", "to_q", "to_v" })));
        foreach (var m in modules)
        {
            m.A.Dispose();
            m.B.Dispose();
        }
        pipe.SetAdapters(new[] { "peft-leftover" });
        using (var leftover = SeedFlows.Image(pipe))
            _output.WriteLine($"peft_folders_ad/ikea-feng_dare_linear/image = PEFT's leftover adapter: {SeedFlows.AssertGolden(leftover, "peft_folders_ad/ikea-feng_dare_linear/image")}");

        Assert.Throws<LoraMergeException>(() => pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Seed = 0 }));
        Assert.False(unet.HasAdapter("ikea-feng"));
        pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0 });
        pipe.SetAdapters(new[] { "ikea-feng" });
        using var merged = SeedFlows.Image(pipe);
        using var golden = GoldenSet.SeedFlows.Tensor("peft_folders_ad/ikea-feng_dare_linear/image");
        var c = TensorAssert.Compare(merged, golden);
        _output.WriteLine($"the real dare_linear merge vs that golden: {c}");
        Assert.True(c.Relative > 1e-2, "the merged adapter's image should not be the leftover adapter's");
    }

    /// <summary>torch's <c>kaiming_uniform_(a=sqrt(5))</c> bound for <paramref name="fanIn"/> (float64, as Python computes it).</summary>
    private static double KaimingBound(long fanIn) => System.Math.Sqrt(3.0) * (System.Math.Sqrt(2.0 / (1 + 5.0)) / System.Math.Sqrt(fanIn));

    [Fact]
    public void TheGuidesDareLinearCallWithoutDensityNamesTheParameterAndChangesNothing()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ad", "feng"), "feng", "feng");
        var e = Assert.Throws<LoraMergeException>(() => pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Seed = 0 }));
        // PEFT raises TypeError: '>=' not supported between instances of 'NoneType' and 'int' here.
        Assert.Equal("builtins.TypeError", GoldenSet.SeedFlows.Node("flows", "peft_folders_ad", "add_weighted_adapter_raised", "type").AsString());
        Assert.Equal(LoraMergeErrorKind.InvalidDensity, e.Kind);
        Assert.Equal("density", e.ParameterName);
        Assert.Contains("`density`", e.Message);
        Assert.Contains("dare_linear", e.Message);
        Assert.Equal(new[] { "ikea", "feng" }, pipe.GetListAdapters()["unet"]);
        Assert.Equal(new[] { "feng" }, pipe.GetActiveAdapters());
    }

    [Fact]
    public void MergingRankFourWithRankEightRaisesPeftsRankError()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ab", "ikea"), "ikea", "ikea");
        pipe.LoadPeftAdapter(SeedFlows.PeftModel("ab", "feng"), "feng", "feng");
        var raised = GoldenSet.SeedFlows.Node("flows", "peft_folders_ab", "add_weighted_adapter_raised");
        var e = Assert.Throws<LoraMergeException>(() => pipe.AddWeightedAdapter(new[] { "ikea", "feng" }, new[] { 1.0, 1.0 }, "ikea-feng",
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0 }));
        Assert.Equal("builtins.ValueError", raised["type"]!.AsString());
        Assert.Equal(raised["message"]!.AsString(), e.Message);
        Assert.Equal(LoraMergeErrorKind.RankMismatch, e.Kind);
        Assert.Equal(new[] { "ikea", "feng" }, pipe.GetListAdapters()["unet"]);
    }
}
