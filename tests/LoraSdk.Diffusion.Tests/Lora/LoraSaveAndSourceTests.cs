using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// What <c>SaveLoraWeights</c> writes and what <c>LoadLoraWeights</c> accepts: saves after hotswap padding are the
/// adapter at its real rank (diffusers writes the padding and metadata that contradicts it), files whose metadata
/// contradicts their tensors load by one rule with a warning the caller receives, and what a save wrote loads by folder.
/// </summary>
public sealed class LoraSaveAndSourceTests
{
    private readonly ITestOutputHelper _output;

    public LoraSaveAndSourceTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void SavingAfterEnableLoraHotswapWritesTheRealRankAndReloadsToTheSameOutput()
    {
        using var temp = new TempFolder();
        string saved;
        using (var p = new LoraPipelineHarness())
        {
            p.Manager.EnableLoraHotswap(8);
            p.Load("lora_a", "a");
            Assert.Equal(8, ((LowRankWeights)p.UnetComponent.GetAdapterWeights("a")[0].Value).TensorRank); // the storage is padded ...
            saved = p.Manager.SaveLoraWeights(temp.Path, "a");
        }
        using (var file = SafetensorsFile.Open(saved))
        {
            foreach (var key in file.Keys.Where(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
                Assert.Equal(4, file.Info(key).Shape[0]); // ... the saved adapter is not
            var config = Config(file, LoraComponents.Unet);
            Assert.Equal(4, config.R);
            Assert.Equal(8, config.LoraAlpha);
            Assert.Empty(config.RankPattern);
        }
        using var q = new LoraPipelineHarness();
        q.Manager.LoadLoraWeights(saved, "a");
        _output.WriteLine($"reloaded: {q.AssertUnet("unet/file_lora_a")}");
    }

    [Fact]
    public void SavingAfterAHotswapWritesTheSwappedInAdapterOnly()
    {
        using var temp = new TempFolder();
        string saved;
        using (var p = new LoraPipelineHarness())
        {
            p.Manager.EnableLoraHotswap(8);
            p.Load("lora_a", "a");
            p.Load("lora_c", "a", hotswap: true);
            p.AssertUnet("unet/hotswap_c_into_a");
            saved = p.Manager.SaveLoraWeights(temp.Path, "a");
        }
        using (var file = SafetensorsFile.Open(saved))
        using (var source = SafetensorsFile.Open(LoraPipelineHarness.LoraPath("lora_c")))
        {
            // The UNet part is exactly lora_c's (48 modules at rank 2), not lora_a's 96 padded modules.
            var unetKeys = file.Keys.Where(k => k.StartsWith("unet.", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            Assert.Equal(source.Keys.OrderBy(k => k, StringComparer.Ordinal), unetKeys);
            foreach (var key in unetKeys.Where(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
                Assert.Equal(2, file.Info(key).Shape[0]);
            var config = Config(file, LoraComponents.Unet);
            Assert.Equal(2, config.R);
            Assert.Equal(2, config.LoraAlpha);
        }
        using var q = new LoraPipelineHarness();
        q.Manager.LoadLoraWeights(saved, "a");
        _output.WriteLine($"reloaded: {q.AssertUnet("unet/hotswap_c_into_a")}");
    }

    /// <summary>
    /// The documented rule (docs/engine.md, "Metadata that contradicts the tensors"): the tensors' shapes decide the
    /// rank, the metadata decides alpha; the contradiction is a warning in the load result and on the manager's
    /// <see cref="LoraAdapterManager.Warning"/> event, and a save of the adapter writes metadata that agrees.
    /// </summary>
    [Fact]
    public void MetadataContradictingTheTensorsLoadsByTheShapesAndWarnsTheCaller()
    {
        using var temp = new TempFolder();
        string lying = Path.Combine(temp.Path, "lying.safetensors");
        using (var source = SafetensorsFile.Open(LoraPipelineHarness.LoraPath("lora_a")))
        using (var scope = NewDisposeScope())
        {
            var metadata = source.Header.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
            metadata[LoraAdapterConfig.MetadataKey] = metadata[LoraAdapterConfig.MetadataKey].Replace("\"unet.r\": 4", "\"unet.r\": 16");
            Assert.Contains("\"unet.r\": 16", metadata[LoraAdapterConfig.MetadataKey]);
            SafetensorsWriter.Save(lying, source.Keys.Select(k => new KeyValuePair<string, Tensor>(k, source.Load(k))).ToList(), metadata);
        }
        using var p = new LoraPipelineHarness();
        var events = new List<string>();
        p.Manager.Warning += events.Add;
        var result = p.Manager.LoadLoraWeightsWithResult(lying, "a");
        string expected = "rank 4 from shapes, but lora_adapter_metadata says 16";
        Assert.Contains(result.Warnings, w => w.Contains(expected, StringComparison.Ordinal) && w.Contains(lying, StringComparison.Ordinal));
        Assert.Contains(events, w => w.Contains(expected, StringComparison.Ordinal));
        _output.WriteLine($"loaded by the shapes: {p.AssertUnet("unet/file_lora_a")}");
        string saved = p.Manager.SaveLoraWeights(Path.Combine(temp.Path, "out"), "a");
        using var file = SafetensorsFile.Open(saved);
        Assert.Equal(4, Config(file, LoraComponents.Unet).R);
    }

    [Fact]
    public void WhatSaveLoraWeightsWroteLoadsByFolder()
    {
        using var temp = new TempFolder();
        using (var p = new LoraPipelineHarness())
        {
            p.Load("lora_a", "a");
            p.Manager.SaveLoraWeights(temp.Path, "a");
        }
        using var q = new LoraPipelineHarness();
        Assert.Equal("a", q.Manager.LoadLoraWeights(temp.Path, "a")); // the folder, as diffusers' load_lora_weights(folder)
        q.AssertUnet("unet/file_lora_a");
        q.Manager.LoadLoraWeights(temp.Path, "b", weightName: LoraComponent.DefaultWeightName);
        Assert.Equal(new[] { "a", "b" }, q.UnetComponent.ListAdapters());
    }

    [Fact]
    public void FoldersThatDoNotNameOneLoraFileAreRefusedWithAReason()
    {
        using var temp = new TempFolder();
        using var p = new LoraPipelineHarness();
        var before = p.Checksums();

        var empty = Assert.Throws<LoraException>(() => p.Manager.LoadLoraWeights(temp.Path, "x"));
        Assert.Equal(LoraErrorKind.SourceNotFound, empty.Kind);
        Assert.Contains("is a folder without a .safetensors file", empty.Message);
        Assert.DoesNotContain("denied", empty.Message, StringComparison.OrdinalIgnoreCase);

        File.Copy(LoraPipelineHarness.LoraPath("lora_a"), Path.Combine(temp.Path, "one.safetensors"));
        File.Copy(LoraPipelineHarness.LoraPath("lora_c"), Path.Combine(temp.Path, "two.safetensors"));
        var several = Assert.Throws<LoraException>(() => p.Manager.LoadLoraWeights(temp.Path, "x"));
        Assert.Equal(LoraErrorKind.AmbiguousSource, several.Kind);
        Assert.Contains("holds 2 .safetensors files (one.safetensors, two.safetensors); pass weightName", several.Message);

        var missing = Assert.Throws<LoraException>(() => p.Manager.LoadLoraWeights(temp.Path, "x", weightName: "three.safetensors"));
        Assert.Contains("has no file 'three.safetensors' (it holds one.safetensors, two.safetensors)", missing.Message);
        var nowhere = Assert.Throws<LoraException>(() => p.Manager.LoadLoraWeights(Path.Combine(temp.Path, "nope"), "x"));
        Assert.Equal(LoraSdkErrorCategory.NotFound, nowhere.Category);

        ParameterChecksums.AssertEqual(before, p.Checksums());
        Assert.Empty(p.Manager.GetListAdapters());
        p.Manager.LoadLoraWeights(temp.Path, "x", weightName: "two.safetensors");
        Assert.Equal(48, p.UnetComponent.GetAdapterModulePaths("x").Count);
    }

    private static LoraAdapterConfig Config(SafetensorsFile file, string component)
    {
        var warnings = new List<string>();
        var configs = LoraAdapterConfig.FromSafetensorsMetadata(file.Header.Metadata, warnings);
        Assert.Empty(warnings);
        return configs[component];
    }
}
