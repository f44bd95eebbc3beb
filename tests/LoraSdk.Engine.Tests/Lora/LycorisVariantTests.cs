using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.IO;
using LoraSdk.Layers;
using LoraSdk.Engine.Tests.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// LyCORIS LoHa and LoKr on Linear and Conv2d layers, every form (plain, Tucker, factorised or full Kronecker factors,
/// full/full LoKr whose alpha is ignored), against ΔW computed in the test from the tensors (<see cref="LycorisTestData"/>):
/// the delta, load → set_adapters weight → forward, fuse → unfuse (bit for bit), save → reload, and refusals that
/// change nothing.
/// </summary>
public sealed class LycorisVariantTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public LycorisVariantTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Cases() => new TheoryData<string>(LycorisTestData.CaseNames);

    private static LoraLayer Layer(TinyModel m, string path) => path switch
    {
        TinyModel.ProjIn => m.ProjInLayer,
        TinyModel.ProjOut => m.ProjOutLayer,
        _ => m.Conv1Layer,
    };

    private static (TinyModel Model, LoraComponent Component, LoraAdapterManager Manager) Model()
    {
        var m = new TinyModel();
        var c = LoraTestData.Component(m);
        return (m, c, new LoraAdapterManager(new[] { c }));
    }

    private static string WriteKohya(TempDir dir, LycorisCase c) =>
        LoraTestData.WriteFile(dir, c.Name + ".safetensors", LycorisTestData.KohyaTensors(c));

    /// <summary>The layer's output with the dense weight W + <paramref name="deltaScale"/> · ΔW (formula), in float64.</summary>
    private static Tensor Expected(LoraLayer layer, Tensor input, Tensor formulaDelta, double deltaScale)
    {
        var weight = layer.Weight.detach().to(ScalarType.Float64) + deltaScale * formulaDelta;
        var bias = layer.Bias?.detach().to(ScalarType.Float64);
        var x = input.to(ScalarType.Float64);
        return layer is LoraConv2d conv
            ? nn.functional.conv2d(x, weight, bias, new[] { conv.Stride.H, conv.Stride.W }, new[] { conv.Padding.H, conv.Padding.W })
            : nn.functional.linear(x, weight, bias);
    }

    private static Tensor InputFor(LoraLayer layer, Tensor x, Tensor image) => layer is LoraConv2d ? image : layer.InFeatures == 8 ? x : x.repeat(1, 2);

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeltaEqualsTheFormula(string name)
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case(name);
        using var dir = new TempDir();
        string file = WriteKohya(dir, lycoris);
        var (m, c, _) = Model();
        using var _m = m;
        var result = c.LoadLoraAdapter(file, "unet", "x");
        Assert.Equal(lycoris.Modules.Count, result.ModuleCounts["unet"]);
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            var w = Assert.IsAssignableFrom<LycorisWeights>(layer.GetAdapter("x"));
            Assert.Equal(lycoris.Variant, w.Variant);
            Assert.Equal(lycoris.Scale, w.Scaling);
            var expected = LycorisTestData.Delta(lycoris.Variant, module.Tensors, layer.Weight.shape) * lycoris.Scale;
            var actual = w.ComputeDelta(ScalarType.Float32).reshape(layer.Weight.shape) * w.Scaling;
            double rel = TensorAssert.Close(expected, actual, 1e-6, $"{name} {module.Path} ΔW");
            _output.WriteLine($"{name} {module.Path}: ΔW relative error {rel:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardIsBasePlusWeightTimesScaleTimesDeltaAndFuseUnfuseRestoresBitForBit(string name)
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case(name);
        using var dir = new TempDir();
        string file = WriteKohya(dir, lycoris);
        var (m, c, manager) = Model();
        using var _m = m;
        manager.LoadLoraWeights(file, "x");
        manager.SetAdapters(new[] { "x" }, new[] { 0.7 });
        var (x, image) = LoraTestData.Inputs();
        var originals = lycoris.Modules.ToDictionary(mod => mod.Path, mod => Layer(m, mod.Path).Weight.detach().clone());
        var expected = new Dictionary<string, Tensor>();
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            var input = InputFor(layer, x, image);
            var delta = LycorisTestData.Delta(lycoris.Variant, module.Tensors, layer.Weight.shape);
            expected[module.Path] = Expected(layer, input, delta, 0.7 * lycoris.Scale);
            // fp32 forward against a float64 reference: the base output and the update round separately.
            TensorAssert.Close(expected[module.Path], layer.forward(input), 1e-5, $"{name} {module.Path} forward");
        }

        manager.FuseLora(loraScale: 1.0);
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            var delta = LycorisTestData.Delta(lycoris.Variant, module.Tensors, layer.Weight.shape);
            var fusedExpected = originals[module.Path].to(ScalarType.Float64) + 0.7 * lycoris.Scale * delta;
            TensorAssert.Close(fusedExpected, layer.Weight.detach(), 1e-6, $"{name} {module.Path} fused weight");
            TensorAssert.Close(expected[module.Path], layer.forward(InputFor(layer, x, image)), 1e-5, $"{name} {module.Path} fused forward");
        }
        manager.UnfuseLora();
        foreach (var module in lycoris.Modules)
            Assert.True(TensorAssert.Identical(originals[module.Path], Layer(m, module.Path).Weight), $"{name} {module.Path}: unfuse restores the weight bit for bit");

        manager.DeleteAdapters(new[] { "x" });
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            Assert.Empty(layer.AdapterNames);
            var input = InputFor(layer, x, image);
            using var baseOnly = Expected(layer, input, zeros(layer.Weight.shape, ScalarType.Float64), 0);
            TensorAssert.Close(baseOnly, layer.forward(input), 1e-6, $"{name} {module.Path} after delete");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SaveWritesOurDiffusersPathFormAndReloadGivesTheSameOutputs(string name)
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case(name);
        using var dir = new TempDir();
        string file = WriteKohya(dir, lycoris);
        var (m, c, manager) = Model();
        using var _m = m;
        manager.LoadLoraWeights(file, "x");
        manager.SetAdapters(new[] { "x" }, new[] { 0.6 });
        var (x, image) = LoraTestData.Inputs();
        var before = lycoris.Modules.ToDictionary(mod => mod.Path, mod => { var l = Layer(m, mod.Path); return l.forward(InputFor(l, x, image)); });

        string saved = manager.SaveLoraWeights(Path.Combine(dir.Path, "saved"), "x");
        using (var f = SafetensorsFile.Open(saved))
        {
            var expectedKeys = lycoris.Modules.SelectMany(mod => mod.Tensors.Keys.Append("alpha").Select(s => $"unet.{mod.Path}.{s}"))
                .OrderBy(k => k, StringComparer.Ordinal);
            Assert.Equal(expectedKeys, f.Header.Tensors.Select(t => t.Name).OrderBy(k => k, StringComparer.Ordinal));
            foreach (var module in lycoris.Modules)
            {
                foreach (var (suffix, t) in module.Tensors)
                    using (var loaded = f.Load($"unet.{module.Path}.{suffix}")) Assert.True(TensorAssert.Identical(t, loaded), suffix);
                Assert.Equal((float)(lycoris.Variant == "lokr" && name == "lokr_full" ? 1 : lycoris.Alpha), f.ReadScalar($"unet.{module.Path}.alpha"));
            }
        }
        var model = LoraFileModel.Read(saved);
        Assert.Equal(LoraKeyFormats.LycorisDiffusers, model.Format);
        Assert.All(model.Components["unet"].Values, spec => Assert.Equal(lycoris.Variant, spec.Variant));

        var (m2, _, manager2) = Model();
        using var _m2 = m2;
        manager2.LoadLoraWeights(saved, "y");
        manager2.SetAdapters(new[] { "y" }, new[] { 0.6 });
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m2, module.Path);
            Assert.Equal(lycoris.Scale * 0.6, layer.GetAdapter("y").Scaling);
            Assert.True(TensorAssert.Identical(before[module.Path], layer.forward(InputFor(layer, x, image))), $"{name} {module.Path}: reloaded output");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AFileWrittenInOurSavedFormLoadsLikeTheKohyaFile(string name)
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case(name);
        using var dir = new TempDir();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var module in lycoris.Modules)
        {
            foreach (var (suffix, t) in module.Tensors) tensors.Add(new($"unet.{module.Path}.{suffix}", t));
            tensors.Add(new($"unet.{module.Path}.alpha", tensor((float)lycoris.Alpha)));
        }
        string ours = LoraTestData.WriteFile(dir, "ours.safetensors", tensors);
        var (m, _, manager) = Model();
        using var _m = m;
        manager.LoadLoraWeights(WriteKohya(dir, lycoris), "kohya");
        manager.LoadLoraWeights(ours, "ours");
        var (x, image) = LoraTestData.Inputs();
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            var w = Assert.IsAssignableFrom<LycorisWeights>(layer.GetAdapter("ours"));
            Assert.Equal(lycoris.Scale, w.Scaling);
            var expected = LycorisTestData.Delta(lycoris.Variant, module.Tensors, layer.Weight.shape) * lycoris.Scale;
            TensorAssert.Close(expected, w.ComputeDelta(ScalarType.Float32).reshape(layer.Weight.shape) * w.Scaling, 1e-6, $"{name} {module.Path} ΔW");
        }
        foreach (var module in lycoris.Modules)
        {
            var layer = Layer(m, module.Path);
            var input = InputFor(layer, x, image);
            manager.SetAdapters(new[] { "kohya" }, new[] { 0.9 });
            var fromKohya = layer.forward(input);
            manager.SetAdapters(new[] { "ours" }, new[] { 0.9 });
            Assert.True(TensorAssert.Identical(fromKohya, layer.forward(input)), $"{name} {module.Path}");
        }
    }

    [Fact]
    public void LoraAndLohaActiveOnOneLayerAddUpInActiveOrder()
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case("loha");
        using var dir = new TempDir();
        var (m, c, manager) = Model();
        using var _m = m;
        c.AddAdapter("l", LoraTestData.Adapter(rank: 2, alpha: 4, seed: 5));
        manager.LoadLoraWeights(WriteKohya(dir, lycoris), "h");
        manager.SetAdapters(new[] { "l", "h" }, new[] { 0.5, 0.8 });
        var (x, _) = LoraTestData.Inputs();
        var layer = m.ProjInLayer;
        var lora = (LowRankWeights)layer.GetAdapter("l");
        var delta = LycorisTestData.Delta("loha", lycoris.Modules[0].Tensors, layer.Weight.shape);
        var loraDelta = lora.B.to(ScalarType.Float64).matmul(lora.A.to(ScalarType.Float64));
        var expected = Expected(layer, x, delta * (0.8 * lycoris.Scale) + loraDelta * (0.5 * 4 / 2) , 1.0);
        TensorAssert.Close(expected, layer.forward(x), 1e-5, "LoRA + LoHa");
    }

    [Fact]
    public void MaterializedModeFoldsLikeTheUnfusedForwardAndRestores()
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case("lokr_w1_factorised");
        using var dir = new TempDir();
        var m = new TinyModel();
        using var _m = m;
        var c = LoraTestData.Component(m);
        c.ForwardMode = LoraForwardMode.Materialized;
        c.LoadLoraAdapter(WriteKohya(dir, lycoris), "unet", "x");
        var (_, image) = LoraTestData.Inputs();
        var original = m.Conv1Layer.Weight.detach().clone();
        var delta = LycorisTestData.Delta("lokr", lycoris.Modules[1].Tensors, m.Conv1Layer.Weight.shape);
        TensorAssert.Close(Expected(m.Conv1Layer, image, delta, lycoris.Scale), m.Conv1Layer.forward(image), 1e-5, "materialized");
        Assert.True(m.Conv1Layer.IsMaterialized);
        c.DisableLora();
        m.Conv1Layer.forward(image);
        Assert.True(TensorAssert.Identical(original, m.Conv1Layer.Weight));
    }

    [Theory]
    [InlineData("loha_tucker")]
    [InlineData("lokr_w1_factorised")]
    public void HalfPrecisionLayersApplyAndFuseInTheirDtype(string name)
    {
        using var scope = NewDisposeScope();
        var lycoris = LycorisTestData.Case(name);
        using var dir = new TempDir();
        var m = new TinyModel(ScalarType.BFloat16);
        using var _m = m;
        var c = LoraTestData.Component(m);
        c.LoadLoraAdapter(WriteKohya(dir, lycoris), "unet", "x");
        var (_, image) = LoraTestData.Inputs();
        using var input = image.to(ScalarType.BFloat16);
        var layer = m.Conv1Layer;
        var w = (LycorisWeights)layer.GetAdapter("x");
        Assert.Equal(ScalarType.BFloat16, w.DType);
        var module = lycoris.Modules.Single(mod => mod.Path == TinyModel.Conv1);
        // The factors are rounded to bf16 on load: the formula gets the same rounded factors.
        var rounded = module.Tensors.ToDictionary(t => t.Key, t => t.Value.to(ScalarType.BFloat16));
        var delta = LycorisTestData.Delta(lycoris.Variant, rounded, layer.Weight.shape);
        var expected = Expected(layer, input, delta, lycoris.Scale);
        TensorAssert.Close(expected, layer.forward(input), 3e-2, $"{name} bf16 forward"); // bf16: 8 mantissa bits
        var original = layer.Weight.detach().clone();
        c.FuseLora();
        TensorAssert.Close(original.to(ScalarType.Float64) + lycoris.Scale * delta, layer.Weight.detach(), 1e-2, $"{name} bf16 fused weight");
        c.UnfuseLora();
        Assert.True(TensorAssert.Identical(original, layer.Weight));
    }

    // ------------------------------------------------------------------ refusals

    private static (TinyModel Model, LoraComponent Component, Dictionary<string, string> Before) LoadedWithLoha(TempDir dir)
    {
        var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("first", LoraTestData.Adapter(2, 2, 11));
        c.LoadLoraAdapter(WriteKohya(dir, LycorisTestData.Case("loha")), "unet", "loha");
        return (m, c, LoraTestData.Checksums(c));
    }

    [Fact]
    public void LohaTensorsThatDoNotComposeChangeNothing()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var tensors = LycorisTestData.KohyaTensors(LycorisTestData.Case("loha_tucker"));
        int i = tensors.FindIndex(kv => kv.Key == "lora_unet_mid_block_resnets_0_conv1.hada_w2_b");
        tensors[i] = new(tensors[i].Key, randn(3, 5)); // the second Tucker factor is (6, 5, 3, 3), the first (6, 4, 3, 3)
        string file = LoraTestData.WriteFile(dir, "bad_loha.safetensors", tensors);
        var (m, c, before) = LoadedWithLoha(dir);
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x"));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("bad_loha.safetensors", e.Message);
        Assert.Contains("mid_block.resnets.0.conv1", e.Message);
        Assert.Contains("LoHa factors do not compose", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void LokrThatDoesNotFitTheLayerChangesNothing()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var lycoris = LycorisTestData.Case("lokr_w2_factorised");
        var tensors = LycorisTestData.KohyaTensors(lycoris);
        // proj_in's ΔW becomes (16, 10) instead of (16, 8); conv1 (loaded before it in key order) is fine.
        int i = tensors.FindIndex(kv => kv.Key == "lora_unet_mid_block_attentions_0_proj_in.lokr_w2_b");
        tensors[i] = new(tensors[i].Key, randn(2, 5));
        string file = LoraTestData.WriteFile(dir, "bad_lokr.safetensors", tensors);
        var (m, c, before) = LoadedWithLoha(dir);
        using var _m = m;
        var e = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(file, "unet", "x"));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("bad_lokr.safetensors", e.Message);
        Assert.Contains("mid_block.attentions.0.proj_in", e.Message);
        Assert.Contains("lokr tensors", e.Message);
        Assert.Contains("ΔW [16, 10]", e.Message);
        Assert.Contains("base weight [16, 8]", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void HotswapAndMergeRefuseLycorisAdaptersNamingTheVariant()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var (m, c, before) = LoadedWithLoha(dir);
        using var _m = m;
        string plain = LoraTestData.WriteFile(dir, "plain.safetensors", LoraTestData.PeftTensors(2, 3));
        var swap = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(plain, "unet", "loha", hotswap: true));
        Assert.Equal(LoraErrorKind.UnsupportedVariant, swap.Kind);
        Assert.Contains("adapter 'loha' is loha", swap.Message);
        string lokr = WriteKohya(dir, LycorisTestData.Case("lokr_full"));
        var swapIn = Assert.Throws<LoraException>(() => c.LoadLoraAdapter(lokr, "unet", "first", hotswap: true));
        Assert.Contains("the new weights are lokr", swapIn.Message);
        var merge = Assert.Throws<LoraException>(() => c.AddWeightedAdapter(new[] { "first", "loha" }, new[] { 1.0, 1.0 }, "merged",
            new LoraMergeOptions { CombinationType = CombinationType.Cat }));
        Assert.Equal(LoraErrorKind.UnsupportedVariant, merge.Kind);
        Assert.Contains("adapter 'loha' is loha", merge.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));

        var (m2, c2, _) = Model();
        using var _m2 = m2;
        c2.EnableLoraHotswap(8);
        var prepared = Assert.Throws<LoraException>(() => c2.LoadLoraAdapter(lokr, "unet", "x"));
        Assert.Equal(LoraErrorKind.UnsupportedVariant, prepared.Kind);
        Assert.Contains("lokr", prepared.Message);
        Assert.Empty(c2.ListAdapters());
    }
}
