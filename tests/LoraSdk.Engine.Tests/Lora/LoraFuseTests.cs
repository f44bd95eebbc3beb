using LoraSdk.Layers;
using System;
using System.Linq;
using LoraSdk.Adapters;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// fuse_lora / unfuse_lora: fp32 math for half-precision weights, bit-exact restore after several fuses and scale
/// changes (fp32, fp16, bf16), PEFT's lora_scale side effect, and safe fusing that rolls everything back.
/// </summary>
public sealed class LoraFuseTests
{
    private static string[] WeightHashes(TinyModel m) =>
        new[] { m.ProjInLayer.Weight, m.ProjOutLayer.Weight, m.Conv1Layer.Weight }.Select(w => Convert.ToHexString(LoraTestData.Hash(w))).ToArray();

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void UnfuseRestoresTheOriginalWeightsBitExactly(ScalarType dtype)
    {
        using var m = new TinyModel(dtype);
        var original = WeightHashes(m);
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        c.AddAdapter("b", LoraTestData.Adapter(2, 4, 2));
        c.SetAdapterWeights(new[] { "a", "b" }, new AdapterWeight?[] { 0.7, 0.8 });
        Assert.Equal(new[] { "a" }, c.FuseLora(adapterNames: new[] { "a" }));
        Assert.NotEqual(original, WeightHashes(m));
        c.SetAdapterWeights(new[] { "a", "b" }, new AdapterWeight?[] { 3.0, -2.5 }); // scales change while fused
        Assert.Equal(new[] { "b" }, c.FuseLora(loraScale: 0.3)); // a is already fused; b added on top
        Assert.Equal(new[] { "a", "b" }, c.GetMergedAdapters());
        c.UnfuseLora();
        Assert.Equal(original, WeightHashes(m));
        Assert.Empty(c.GetMergedAdapters());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void FusedWeightIsComputedInFp32AndRoundedOnce(ScalarType dtype)
    {
        using var m = new TinyModel(dtype);
        var c = LoraTestData.Component(m);
        var def = LoraTestData.Adapter(4, 8, 1, new[] { TinyModel.ProjIn });
        c.AddAdapter("a", def);
        c.SetAdapters("a", 0.6);
        using var w0 = m.ProjInLayer.Weight.to(ScalarType.Float32);
        var a = m.ProjInLayer.GetAdapter("a");
        using var expected = w0.addmm(((LowRankWeights)a).B.to(ScalarType.Float32), ((LowRankWeights)a).A.to(ScalarType.Float32), 1f, (float)a.Scaling).to(dtype);
        c.FuseLora();
        Assert.True(LoraForwardTests.Same(m.ProjInLayer.Weight, expected), "fused weight != round(fp32(W) + s·B·A)");
    }

    [Fact]
    public void FuseWithLoraScaleKeepsTheScaledScalingLikePeft()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        c.FuseLora(loraScale: 0.5);
        c.UnfuseLora();
        Assert.Equal(1.0, m.ProjInLayer.GetAdapter("a").Scaling); // 2.0 × 0.5, as diffusers' goldens record
    }

    [Fact]
    public void SafeFusingWithNonFiniteResultThrowsAndChangesNothing()
    {
        using var m = new TinyModel(ScalarType.Float16);
        var c = LoraTestData.Component(m);
        c.AddAdapter("ok", LoraTestData.Adapter(2, 2, 5));
        var bad = LoraTestData.Adapter(4, 8, 1);
        bad.Modules.First(x => x.ModulePath == TinyModel.Conv1).B.fill_(60000f); // fp16 overflow only in the last layer
        c.AddAdapter("bad", bad);
        c.SetAdapterWeights(new[] { "ok", "bad" }, (System.Collections.Generic.IReadOnlyList<AdapterWeight?>?)null);
        c.FuseLora(adapterNames: new[] { "ok" });
        var before = LoraTestData.Checksums(c);
        var e = Assert.Throws<LoraException>(() => c.FuseLora(loraScale: 0.9, safeFusing: true, adapterNames: new[] { "bad" }));
        Assert.Equal(LoraErrorKind.NonFiniteFusedWeights, e.Kind);
        Assert.Equal("NaNs detected in the merged weights. The adapter bad seems to be broken", e.Message);
        Assert.Equal(TinyModel.Conv1, e.ModulePath);
        Assert.Equal(before, LoraTestData.Checksums(c)); // weights (incl. the earlier fuse), scalings, merged lists
        c.UnfuseLora();
    }
}
