using System;
using System.Globalization;
using System.Linq;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>Parity assertions that report the worst element (index and both values) on failure.</summary>
public static class TensorAssert
{
    /// <summary>The float32 parity tolerance of the goldens: max|a−b| / max(max|b|, 1e-12) ≤ 1e-4.</summary>
    public const double DefaultRelativeTolerance = 1e-4;

    /// <summary>Result of a comparison.</summary>
    /// <param name="MaxAbsDiff">max |actual − expected|.</param>
    /// <param name="MaxAbsExpected">max |expected|.</param>
    /// <param name="Relative">MaxAbsDiff / max(MaxAbsExpected, 1e-12).</param>
    /// <param name="WorstIndex">Multi-index of the largest difference.</param>
    /// <param name="ActualAtWorst">actual at that index.</param>
    /// <param name="ExpectedAtWorst">expected at that index.</param>
    public readonly record struct Comparison(double MaxAbsDiff, double MaxAbsExpected, double Relative, long[] WorstIndex,
        double ActualAtWorst, double ExpectedAtWorst)
    {
        /// <summary>A one-line description.</summary>
        public override string ToString() => string.Format(CultureInfo.InvariantCulture,
            "rel {0:E3} (max abs diff {1:E3}, max |expected| {2:E3}); worst at [{3}]: actual {4:R}, expected {5:R}",
            Relative, MaxAbsDiff, MaxAbsExpected, string.Join(", ", WorstIndex), ActualAtWorst, ExpectedAtWorst);
    }

    /// <summary>Compares two tensors of the same shape (both converted to float64 on the CPU).</summary>
    public static Comparison Compare(Tensor actual, Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape))
            throw new XunitException($"shape mismatch: actual [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var scope = NewDisposeScope();
        var a = actual.detach().to(CPU).to_type(ScalarType.Float64);
        var e = expected.detach().to(CPU).to_type(ScalarType.Float64);
        var diff = (a - e).abs();
        long flat = diff.numel() == 0 ? 0 : diff.flatten().argmax().item<long>();
        double maxDiff = diff.numel() == 0 ? 0 : diff.max().item<double>();
        double maxExpected = e.numel() == 0 ? 0 : e.abs().max().item<double>();
        long[] index = Unravel(flat, expected.shape);
        double actualAt = a.numel() == 0 ? 0 : a.flatten()[flat].item<double>();
        double expectedAt = e.numel() == 0 ? 0 : e.flatten()[flat].item<double>();
        if (double.IsNaN(maxDiff) || a.isnan().any().item<bool>())
            maxDiff = double.PositiveInfinity;
        return new Comparison(maxDiff, maxExpected, maxDiff / Math.Max(maxExpected, 1e-12), index, actualAt, expectedAt);
    }

    /// <summary>
    /// Asserts max|actual − expected| / max(max|expected|, 1e-12) ≤ <paramref name="relativeTolerance"/>; the
    /// message names <paramref name="label"/>, the worst index and both values. Returns the comparison.
    /// </summary>
    public static Comparison Close(Tensor actual, Tensor expected, string label, double relativeTolerance = DefaultRelativeTolerance)
    {
        var c = Compare(actual, expected);
        if (!(c.Relative <= relativeTolerance))
            throw new XunitException($"{label}: {c} exceeds tolerance {relativeTolerance.ToString("E1", CultureInfo.InvariantCulture)}");
        return c;
    }

    /// <summary>Asserts that the two tensors are bitwise equal.</summary>
    public static void Equal(Tensor actual, Tensor expected, string label)
    {
        var c = Compare(actual, expected);
        if (c.MaxAbsDiff != 0)
            throw new XunitException($"{label}: expected identical tensors; {c}");
    }

    private static long[] Unravel(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            long size = Math.Max(shape[d], 1);
            index[d] = flat % size;
            flat /= size;
        }
        return index;
    }
}
