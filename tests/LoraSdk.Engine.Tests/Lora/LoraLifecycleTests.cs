using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>Management operations with PEFT/diffusers semantics: activation, deletion, runtime scale, devices, unload.</summary>
public sealed class LoraLifecycleTests
{
    [Fact]
    public void LoadingActivatesOnlyTheNewAdapterLikeDiffusers()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        Assert.Equal("default_0", c.AddAdapter(null, LoraTestData.Adapter(2, 2, 1)));
        Assert.Equal("default_1", c.AddAdapter(null, LoraTestData.Adapter(2, 2, 2, new[] { TinyModel.ProjIn })));
        Assert.Equal(new[] { "default_1" }, c.GetActiveAdapters());
        Assert.Equal(new[] { "default_1" }, m.Conv1Layer.ActiveAdapters); // a layer without default_1 runs as base
        Assert.Equal(new[] { "default_0", "default_1" }, c.ListAdapters());
    }

    [Fact]
    public void DeletingTheOnlyActiveAdapterActivatesEachLayersFirstRemainingOne()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("z", LoraTestData.Adapter(2, 2, 1, new[] { TinyModel.ProjIn }));
        c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2, new[] { TinyModel.ProjIn, TinyModel.ProjOut }));
        c.AddAdapter("a", LoraTestData.Adapter(2, 2, 3));
        c.SetAdapter(new[] { "a" });
        c.DeleteAdapters(new[] { "a", "not-there" });
        // PEFT: per layer, sorted remaining adapters, first one
        Assert.Equal(new[] { "b" }, m.ProjInLayer.ActiveAdapters);
        Assert.Equal(new[] { "b" }, m.ProjOutLayer.ActiveAdapters);
        Assert.Empty(m.Conv1Layer.ActiveAdapters);
        c.DeleteAdapters(new[] { "b" });
        Assert.Equal(new[] { "z" }, m.ProjInLayer.ActiveAdapters);
        Assert.Empty(m.ProjOutLayer.ActiveAdapters);
        c.SetAdapters(new[] { "z" });
        Assert.Equal(new[] { "z" }, m.ProjOutLayer.ActiveAdapters); // set_adapters sets every layer again
        Assert.Equal(new[] { "z" }, c.ListAdapters());
    }

    [Fact]
    public void DeletingOneOfSeveralActiveAdaptersKeepsTheOthersActive()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(2, 2, 1));
        c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2));
        c.SetAdapters(new[] { "a", "b" });
        c.DeleteAdapters(new[] { "a" });
        Assert.Equal(new[] { "b" }, c.GetActiveAdapters());
        Assert.False(m.ProjInLayer.HasAdapter("a"));
    }

    [Fact]
    public void RuntimeScaleAppliesForOneCallAndIsRestoredExactlyEvenWhenTheCallThrows()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        c.SetAdapters("a", 0.7);
        var (x, img) = LoraTestData.Inputs();
        var (before, _) = m.Run(x, img);
        Tensor scaled;
        using (c.ApplyRuntimeScale(0.5))
        {
            Assert.Equal(0.5, c.RuntimeScale);
            (scaled, _) = m.Run(x, img);
        }
        c.SetAdapters("a", 0.35);
        var (expected, _) = m.Run(x, img);
        Assert.True(LoraTestData.Relative(scaled, expected) < 1e-6);
        c.SetAdapters("a", 0.7);
        Assert.Throws<InvalidOperationException>(() => RunScaledAndThrow(c, m, x, img));
        Assert.Equal(1.0, c.RuntimeScale);
        var (after, _) = m.Run(x, img);
        Assert.True(LoraForwardTests.Same(after, before));
        Assert.Equal(0.7 * 8 / 4, m.ProjInLayer.GetAdapter("a").Scaling); // scalings themselves never change
        using (c.ApplyRuntimeScale(0.0)) { }
        Assert.Equal(0.7 * 8 / 4, m.ProjInLayer.GetAdapter("a").Scaling); // diffusers would reset to alpha/r here
    }

    private static void RunScaledAndThrow(LoraComponent c, TinyModel m, Tensor x, Tensor img)
    {
        using var scope = c.ApplyRuntimeScale(0.3);
        m.Run(x, img);
        throw new InvalidOperationException("denoiser failed");
    }

    [Fact]
    public void ScaleChangesTouchOnlyTheLayersOfTheNamedAdapters()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("in", LoraTestData.Adapter(2, 2, 1, new[] { TinyModel.ProjIn }));
        c.AddAdapter("conv", LoraTestData.Adapter(2, 2, 2, new[] { TinyModel.Conv1 }));
        var convWeights = m.Conv1Layer.GetAdapter("conv");
        int version = convWeights.Version;
        c.SetAdapterWeights(new[] { "in" }, new AdapterWeight?[] { 0.25 });
        Assert.Equal(version, convWeights.Version);
        Assert.Equal(0.25, m.ProjInLayer.GetAdapter("in").Scaling);
        Assert.Equal(new[] { TinyModel.ProjIn }, c.GetAdapterModulePaths("in"));
    }

    [Fact]
    public void SetLoraDeviceMovesOnlyTheNamedAdapter()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(2, 2, 1));
        c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2));
        c.SetAdapters(new[] { "a", "b" });
        var (x, img) = LoraTestData.Inputs();
        var (y0, _) = m.Run(x, img);
        var b = ((LowRankWeights)m.ProjInLayer.GetAdapter("b")).A;
        c.SetLoraDevice(new[] { "a", "nope" }, torch.CPU);
        Assert.Same(b, ((LowRankWeights)m.ProjInLayer.GetAdapter("b")).A);
        var (y1, _) = m.Run(x, img);
        Assert.True(LoraForwardTests.Same(y0, y1));
    }

    [Fact]
    public void UnloadRemovesEverythingAndKeepsFusedWeightsLikeDiffusers()
    {
        using var m = new TinyModel();
        using var reference = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(2, 2, 1));
        var (x, img) = LoraTestData.Inputs();
        var (lora, _) = m.Run(x, img);
        c.FuseLora();
        c.UnloadLora();
        Assert.Empty(c.ListAdapters());
        Assert.False(c.HasInjectedLayers);
        Assert.Empty(m.ProjInLayer.AdapterNames);
        var (fused, _) = m.Run(x, img);
        Assert.True(LoraTestData.Relative(fused, lora) < 1e-6);
        Assert.False(LoraForwardTests.Same(m.ProjInLayer.Weight, reference.ProjInLayer.Weight));
        Assert.Equal("default_0", c.AddAdapter(null, LoraTestData.Adapter(2, 2, 1)));
    }

    [Fact]
    public void EnableLoraHotswapAfterALoadFollowsCheckCompiled()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(2, 2, 1));
        var e = Assert.Throws<LoraException>(() => c.EnableLoraHotswap(8));
        Assert.Equal("Call `enable_lora_hotswap` before loading the first adapter.", e.Message);
        Assert.Equal("RuntimeError", e.PythonType);
        Assert.NotNull(c.EnableLoraHotswap(8, "warn"));
        var bad = Assert.Throws<LoraException>(() => c.EnableLoraHotswap(8, "maybe"));
        Assert.Equal("check_compiles should be one of 'error', 'warn', or 'ignore', got 'maybe' instead.", bad.Message);
    }

    [Fact]
    public void ModuleToDtypeCastsTheAdaptersAndThePristineCopy()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        c.FuseLora();
        m.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, m.ProjInLayer.Weight.dtype);
        Assert.Equal(ScalarType.BFloat16, ((LowRankWeights)m.ProjInLayer.GetAdapter("a")).A.dtype);
        c.UnfuseLora();
        using var reference = new TinyModel();
        using var expected = reference.ProjInLayer.Weight.to(ScalarType.BFloat16);
        Assert.True(LoraForwardTests.Same(m.ProjInLayer.Weight, expected)); // restored = the original cast once
        var (x, img) = LoraTestData.Inputs();
        using var xb = x.to(ScalarType.BFloat16);
        using var ib = img.to(ScalarType.BFloat16);
        var (y, conv) = m.Run(xb, ib);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Equal(ScalarType.BFloat16, conv.dtype);
    }

    [Fact]
    public void ALayerBelongsToOneComponent()
    {
        using var m = new TinyModel();
        _ = LoraTestData.Component(m);
        Assert.Throws<InvalidOperationException>(() => LoraTestData.Component(m));
    }
}
