using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// The forward pass against a float64 reference (base + Σ scaling · B·A·x, PEFT's formula): one adapter, several
/// adapters (one concatenated product), Conv2d, disabled, inactive, and the materialized / auto modes (same output,
/// exact weight restore). Tolerance 1e-6 relative (max |a−b| / max |b|).
/// </summary>
public sealed class LoraForwardTests
{
    private static (Tensor Linear, Tensor Conv) Reference(TinyModel m, Tensor x, Tensor image, IReadOnlyList<(LoraAdapterDefinition Def, double Scale)> active)
    {
        using var scope = NewDisposeScope();
        Tensor Delta(string path, Tensor input)
        {
            Tensor sum = zeros(1, dtype: ScalarType.Float64);
            foreach (var (def, scale) in active)
            {
                var mod = def.Modules.FirstOrDefault(mm => mm.ModulePath == path);
                if (mod == null) continue;
                var a = mod.A.to(ScalarType.Float64);
                var b = mod.B.to(ScalarType.Float64);
                double s = scale * mod.Alpha / mod.Rank;
                sum = path == TinyModel.Conv1
                    ? sum + nn.functional.conv2d(nn.functional.conv2d(input, a, null, new long[] { 1, 1 }, new long[] { 1, 1 }), b) * s
                    : sum + input.matmul(a.t()).matmul(b.t()) * s;
            }
            return sum;
        }
        var x64 = x.to(ScalarType.Float64);
        var w1 = m.ProjInLayer.Weight.to(ScalarType.Float64);
        var b1 = m.ProjInLayer.Bias!.to(ScalarType.Float64);
        var h = x64.matmul(w1.t()) + b1 + Delta(TinyModel.ProjIn, x64);
        var w2 = m.ProjOutLayer.Weight.to(ScalarType.Float64);
        var y = h.matmul(w2.t()) + Delta(TinyModel.ProjOut, h);
        var img = image.to(ScalarType.Float64);
        var conv = nn.functional.conv2d(img, m.Conv1Layer.Weight.to(ScalarType.Float64), m.Conv1Layer.Bias!.to(ScalarType.Float64),
            new long[] { 1, 1 }, new long[] { 1, 1 }) + Delta(TinyModel.Conv1, img);
        return (y.MoveToOuterDisposeScope(), conv.MoveToOuterDisposeScope());
    }

    private static void AssertClose((Tensor Linear, Tensor Conv) actual, (Tensor Linear, Tensor Conv) expected, double tol = 1e-6)
    {
        double r1 = LoraTestData.Relative(actual.Linear, expected.Linear), r2 = LoraTestData.Relative(actual.Conv, expected.Conv);
        Assert.True(r1 <= tol, $"linear path rel {r1:E3} > {tol:E1}");
        Assert.True(r2 <= tol, $"conv path rel {r2:E3} > {tol:E1}");
    }

    [Fact]
    public void OneAdapterMatchesPeftFormula()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        var a = LoraTestData.Adapter(4, 8, 1);
        c.AddAdapter("a", a);
        var (x, img) = LoraTestData.Inputs();
        AssertClose(m.Run(x, img), Reference(m, x, img, new[] { (a, 1.0) }));
        Assert.Equal(2.0, m.ProjInLayer.GetAdapter("a").Scaling);
    }

    [Fact]
    public void SeveralAdaptersRunAsOneConcatenatedProductAndMatchTheSum()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        var a = LoraTestData.Adapter(4, 8, 1);
        var b = LoraTestData.Adapter(2, 1, 2, new[] { TinyModel.ProjIn, TinyModel.Conv1 });
        var d = LoraTestData.Adapter(3, 3, 3);
        c.AddAdapter("a", a);
        c.AddAdapter("b", b);
        c.AddAdapter("d", d);
        c.SetAdapterWeights(new[] { "a", "b", "d" }, new AdapterWeight?[] { 0.7, 1.3, -0.4 });
        var (x, img) = LoraTestData.Inputs();
        AssertClose(m.Run(x, img), Reference(m, x, img, new[] { (a, 0.7), (b, 1.3), (d, -0.4) }));
        // the cache is one (R, in) / (out, R) pair over all active adapters of the layer
        var core = m.ProjInLayer.Adapters;
        Assert.Equal(new long[] { 4 + 2 + 3, 8 }, core.ConcatA!.shape);
        Assert.Equal(new long[] { 16, 4 + 2 + 3 }, core.ConcatB!.shape);
        // changing one scale rebuilds into the same cache buffers (no reallocation)
        var before = ExceptionPointer(core.ConcatB!);
        c.SetAdapterWeights(new[] { "a", "b", "d" }, new AdapterWeight?[] { 0.1, 1.3, -0.4 });
        AssertClose(m.Run(x, img), Reference(m, x, img, new[] { (a, 0.1), (b, 1.3), (d, -0.4) }));
        Assert.Equal(before, ExceptionPointer(core.ConcatB!));
    }

    internal static bool Same(Tensor a, Tensor b) => LoraTestData.Hash(a).AsSpan().SequenceEqual(LoraTestData.Hash(b));

    private static IntPtr ExceptionPointer(Tensor t) => t.storage<float>().data_ptr();

    [Fact]
    public void InactiveAndDisabledAdaptersGiveTheBaseOutputExactly()
    {
        using var m = new TinyModel();
        var (x, img) = LoraTestData.Inputs();
        var (baseLinear, baseConv) = m.Run(x, img);
        var c = LoraTestData.Component(m);
        c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        c.DisableLora();
        var (l1, c1) = m.Run(x, img);
        Assert.True(Same(l1, baseLinear) && Same(c1, baseConv));
        c.EnableLora();
        c.SetAdapter(Array.Empty<string>());
        var (l2, c2) = m.Run(x, img);
        Assert.True(Same(l2, baseLinear) && Same(c2, baseConv));
    }

    [Theory]
    [InlineData(LoraForwardMode.Materialized)]
    [InlineData(LoraForwardMode.Auto)]
    public void MaterializedModesMatchUnfusedAndRestoreWeightsExactly(LoraForwardMode mode)
    {
        using var m = new TinyModel();
        using var pristine = new TinyModel(); // same seed: the base weights the reference must use while m is folded
        var original = new[] { m.ProjInLayer.Weight, m.ProjOutLayer.Weight, m.Conv1Layer.Weight }.Select(LoraTestData.Hash).ToList();
        var c = LoraTestData.Component(m);
        var a = LoraTestData.Adapter(4, 8, 1);
        var b = LoraTestData.Adapter(2, 2, 2);
        c.AddAdapter("a", a);
        c.AddAdapter("b", b);
        c.SetAdapterWeights(new[] { "a", "b" }, new AdapterWeight?[] { 0.5, 0.25 });
        c.ForwardMode = mode;
        var (x, img) = LoraTestData.Inputs();
        for (int call = 1; call <= 3; call++)
        {
            AssertClose(m.Run(x, img), Reference(pristine, x, img, new[] { (a, 0.5), (b, 0.25) }), 2e-6);
            bool folded = mode == LoraForwardMode.Materialized || call >= c.AutoMaterializeAfter;
            Assert.Equal(folded, m.ProjInLayer.IsMaterialized);
        }
        // a scale change restores the exact weights before folding again
        c.SetAdapterWeights(new[] { "a", "b" }, new AdapterWeight?[] { 1.0, -1.0 });
        m.ProjInLayer.Adapters.Dematerialize();
        Assert.Equal(original[0], LoraTestData.Hash(m.ProjInLayer.Weight));
        AssertClose(m.Run(x, img), Reference(pristine, x, img, new[] { (a, 1.0), (b, -1.0) }), 2e-6);
        c.Dematerialize();
        Assert.Equal(original, new[] { m.ProjInLayer.Weight, m.ProjOutLayer.Weight, m.Conv1Layer.Weight }.Select(LoraTestData.Hash).ToList());
        c.ForwardMode = LoraForwardMode.Unfused;
        AssertClose(m.Run(x, img), Reference(m, x, img, new[] { (a, 1.0), (b, -1.0) }));
        c.UnloadLora();
        Assert.Equal(original, new[] { m.ProjInLayer.Weight, m.ProjOutLayer.Weight, m.Conv1Layer.Weight }.Select(LoraTestData.Hash).ToList());
    }

    [Fact]
    public void RsLoraScalesByAlphaOverSqrtRank()
    {
        using var m = new TinyModel();
        var c = LoraTestData.Component(m);
        c.AddAdapter("rs", LoraTestData.Adapter(4, 8, 1, useRsLora: true));
        Assert.Equal(8 / Math.Sqrt(4), m.ProjInLayer.GetAdapter("rs").Scaling);
        c.SetAdapters("rs", 0.5);
        Assert.Equal(0.5 * 8 / Math.Sqrt(4), m.ProjInLayer.GetAdapter("rs").Scaling);
    }
}
