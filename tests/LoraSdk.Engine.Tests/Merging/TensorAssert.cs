using System;
using System.Globalization;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>Parity assertions: max|actual − expected| / max(max|expected|, 1e-12) ≤ tol, reporting the worst element.</summary>
internal static class TensorAssert
{
    /// <summary>Returns the relative error; throws with the worst index and both values when it exceeds <paramref name="tol"/>.</summary>
    public static double Close(Tensor expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64).flatten();
        var a = actual.to_type(ScalarType.Float64).flatten();
        var diff = (a - e).abs();
        long worst = diff.argmax().item<long>();
        double maxDiff = diff[worst].item<double>();
        double scale = Math.Max(e.abs().max().item<double>(), 1e-12);
        double rel = maxDiff / scale;
        if (!(rel <= tol))
        {
            Assert.Fail(string.Format(CultureInfo.InvariantCulture,
                "{0}: relative error {1:E3} > {2:E1} at flat index {3}: expected {4:R}, actual {5:R} (max|expected| {6:R})",
                what, rel, tol, worst, e[worst].item<double>(), a[worst].item<double>(), scale));
        }
        return rel;
    }

    /// <summary>True when both tensors have the same shape and equal elements (no NaNs expected).</summary>
    public static bool Identical(Tensor x, Tensor y)
    {
        if (!x.shape.AsSpan().SequenceEqual(y.shape)) return false;
        using var eq = x.eq(y);
        using var all = eq.all();
        return all.item<bool>();
    }

    /// <summary>B·A as a 2-D (out, in·kh·kw) matrix.</summary>
    public static Tensor Product(Tensor a, Tensor b) => b.reshape(b.shape[0], b.shape[1]).matmul(a.reshape(a.shape[0], -1));
}
