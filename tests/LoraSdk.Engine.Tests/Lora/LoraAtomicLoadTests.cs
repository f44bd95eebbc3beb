using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// Loads from files validate everything before changing anything: on every error the model's parameters, adapters,
/// scalings and active lists are bit-identical (checksums) and the message names the file, layer and shapes.
/// </summary>
public sealed class LoraAtomicLoadTests
{
    private static (TinyModel Model, LoraComponent Component, Dictionary<string, string> Before) Loaded()
    {
        var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("first", LoraTestData.Adapter(2, 2, 11));
        return (m, c, LoraTestData.Checksums(c));
    }

    [Fact]
    public void PeftFileLoadsIntoTheModel()
    {
        using var dir = new TempDir();
        string file = LoraTestData.WriteFile(dir, "ok.safetensors", LoraTestData.PeftTensors(4, 1));
        var (m, c, _) = Loaded();
        using var _m = m;
        var result = c.LoadLoraAdapter(file, "unet", "x");
        Assert.Equal(3, result.ModuleCounts["unet"]);
        Assert.Equal(new[] { "first", "x" }, c.ListAdapters());
        Assert.Equal(new[] { "x" }, c.GetActiveAdapters());
        Assert.Equal(1.0, m.Conv1Layer.GetAdapter("x").Scaling); // no metadata, no alphas: alpha = r
    }

    [Fact]
    public void ShapeMismatchInTheLastModuleChangesNothing()
    {
        using var dir = new TempDir();
        var tensors = LoraTestData.PeftTensors(4, 1);
        int i = tensors.FindIndex(kv => kv.Key == "unet." + TinyModel.ProjOut + ".lora_A.weight");
        tensors[i] = new KeyValuePair<string, Tensor>(tensors[i].Key, randn(4, 15));
        string file = LoraTestData.WriteFile(dir, "bad.safetensors", tensors);
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x"));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains(TinyModel.ProjOut, e.Message);
        Assert.Contains("[4, 15]", e.Message);
        Assert.Contains("needs [4, 16]", e.Message);
        Assert.Contains("base weight [8, 16]", e.Message);
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void MissingModuleChangesNothing()
    {
        using var dir = new TempDir();
        var tensors = LoraTestData.PeftTensors(4, 1);
        tensors.Add(new KeyValuePair<string, Tensor>("unet.mid_block.attentions.0.proj_missing.lora_A.weight", randn(4, 8)));
        tensors.Add(new KeyValuePair<string, Tensor>("unet.mid_block.attentions.0.proj_missing.lora_B.weight", randn(8, 4)));
        string file = LoraTestData.WriteFile(dir, "missing.safetensors", tensors);
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x"));
        Assert.Equal(LoraErrorKind.MissingModule, e.Kind);
        Assert.Contains("mid_block.attentions.0.proj_missing", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void DuplicateAdapterNameChangesNothing()
    {
        using var dir = new TempDir();
        string file = LoraTestData.WriteFile(dir, "ok.safetensors", LoraTestData.PeftTensors(4, 1));
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "first"));
        Assert.Equal(LoraErrorKind.DuplicateAdapterName, e.Kind);
        Assert.Equal("Adapter name first already in use in the model - please select a new adapter name.", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void UnsupportedVariantIsRefusedUnlessSkipped()
    {
        using var dir = new TempDir();
        var tensors = LoraTestData.PeftTensors(4, 1);
        tensors.Add(new KeyValuePair<string, Tensor>("lora_unet_mid_block_attentions_0_proj_in.oft_blocks", randn(16, 2)));
        string file = LoraTestData.WriteFile(dir, "oft.safetensors", tensors);
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x"));
        Assert.Equal(LoraErrorKind.UnsupportedVariant, e.Kind);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void UnmappedKeysAreReportedOrRefused()
    {
        using var dir = new TempDir();
        var tensors = LoraTestData.PeftTensors(4, 1);
        tensors.Add(new KeyValuePair<string, Tensor>("something.else.entirely", randn(3)));
        string file = LoraTestData.WriteFile(dir, "extra.safetensors", tensors);
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x", options: new LoraLoadOptions { ThrowOnUnmappedKeys = true }));
        Assert.Equal(LoraErrorKind.UnmappedKeys, e.Kind);
        Assert.Contains("something.else.entirely", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
        var result = c.LoadLoraAdapter(file, "unet", "x");
        Assert.Equal(new[] { "something.else.entirely" }, result.UnmappedKeys);
    }

    [Fact]
    public void ArchitectureMismatchChangesNothing()
    {
        using var dir = new TempDir();
        string file = LoraTestData.WriteFile(dir, "sd15.safetensors", LoraTestData.PeftTensors(4, 1),
            new Dictionary<string, string> { ["modelspec.architecture"] = "stable-diffusion-v1/lora" });
        var (m, c, before) = Loaded();
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x", options: new LoraLoadOptions { ExpectedArchitecture = "sdxl" }));
        Assert.Equal(LoraErrorKind.ArchitectureMismatch, e.Kind);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Theory]
    [InlineData("model.bin")]
    [InlineData("model.ckpt")]
    [InlineData("model.pt")]
    [InlineData("model.pth")]
    public void PickleFilesAreRefused(string name)
    {
        using var dir = new TempDir();
        string path = System.IO.Path.Combine(dir.Path, name);
        System.IO.File.WriteAllBytes(path, new byte[] { 0x80, 0x02 });
        var (m, c, before) = Loaded();
        using var _m = m;
        Assert.Throws<UnsupportedFileFormatException>(() => c.LoadLoraAdapter(path, "unet", "x"));
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void FailedHotswapKeepsTheOldAdapterAndItsStorage()
    {
        using var dir = new TempDir();
        string good = LoraTestData.WriteFile(dir, "good.safetensors", LoraTestData.PeftTensors(2, 21));
        var tensors = LoraTestData.PeftTensors(2, 22);
        int i = tensors.FindIndex(kv => kv.Key == "unet." + TinyModel.Conv1 + ".lora_B.weight");
        tensors[i] = new KeyValuePair<string, Tensor>(tensors[i].Key, randn(7, 2, 1, 1));
        string bad = LoraTestData.WriteFile(dir, "bad.safetensors", tensors);
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.EnableLoraHotswap(4);
        c.LoadLoraAdapter(good, "unet", "slot");
        var pointers = c.GetAdapterWeights("slot").Select(kv => (((LowRankWeights)kv.Value).A.storage<float>().data_ptr(), ((LowRankWeights)kv.Value).B.storage<float>().data_ptr())).ToList();
        var scaling = m.Conv1Layer.GetAdapter("slot").ScalingTensor!; // hotswap-prepared: scalings live in tensors
        Assert.Equal(1.0, scaling.item<double>());
        var before = LoraTestData.Checksums(c);
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(bad, "unet", "slot", hotswap: true));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("[7, 2, 1, 1]", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
        // a valid swap afterwards works in place (conv included) and changes the output
        var (x, img) = LoraTestData.Inputs();
        var (_, convBefore) = m.Run(x, img);
        string other = LoraTestData.WriteFile(dir, "other.safetensors", LoraTestData.PeftTensors(3, 23));
        c.LoadLoraAdapter(other, "unet", "slot", hotswap: true);
        Assert.Equal(pointers, c.GetAdapterWeights("slot").Select(kv => (((LowRankWeights)kv.Value).A.storage<float>().data_ptr(), ((LowRankWeights)kv.Value).B.storage<float>().data_ptr())).ToList());
        var (_, convAfter) = m.Run(x, img);
        Assert.False(LoraForwardTests.Same(convBefore, convAfter));
        Assert.Equal(new long[] { 4, 4, 3, 3 }, ((LowRankWeights)m.Conv1Layer.GetAdapter("slot")).A.shape);
        Assert.Same(scaling, m.Conv1Layer.GetAdapter("slot").ScalingTensor); // updated in place, never replaced
        Assert.Equal(m.Conv1Layer.GetAdapter("slot").Scaling, scaling.item<double>());
    }
}
