using LoraSdk.Layers;
using Xunit;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Layers;

/// <summary>
/// <see cref="AtenLinear"/>: <c>x Wᵀ + b</c> with the bias inside one GEMM for contiguous N-D inputs (PyTorch's
/// <c>at::linear</c>), a matmul + add otherwise. Checked against the formula in float64 (tolerance: float32 rounding of a
/// 64-term dot product, 1e-5 relative), and for layout independence: a contiguous (B, T, in) input gives bit for bit
/// the rows of the same (B·T, in) input — the same single addmm.
/// </summary>
public sealed class AtenLinearTests
{
    private static (Tensor X, Tensor W, Tensor B) Data(long batch, long tokens)
    {
        using var g = new Generator(7);
        return (randn(new long[] { batch, tokens, 64 }, generator: g), randn(new long[] { 48, 64 }, generator: g), randn(new long[] { 48 }, generator: g));
    }

    private static Tensor Reference(Tensor x, Tensor w, Tensor? b)
    {
        using var x64 = x.to(ScalarType.Float64);
        using var w64 = w.to(ScalarType.Float64);
        var y = x64.matmul(w64.t());
        if (b is not null)
        {
            using var b64 = b.to(ScalarType.Float64);
            y.add_(b64);
        }
        return y;
    }

    private static void AssertClose(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (actual.to(ScalarType.Float64) - expected).abs().max();
        using var scale = expected.abs().max();
        Assert.True(diff.item<double>() <= 1e-5 * scale.item<double>(), $"max |Δ| {diff.item<double>()} vs max |y| {scale.item<double>()}");
    }

    [Fact]
    public void MatchesTheFormulaForEveryInputLayout()
    {
        var (x, w, b) = Data(3, 5);
        using (x) using (w) using (b)
        {
            using var flat = x.reshape(15, 64);
            using var transposed = x.transpose(0, 1); // (5, 3, 64), not contiguous: the matmul + add path
            using var oneD = x[0, 0];
            foreach (var (input, bias) in new[] { (x, b), (flat, b), (transposed, b), (oneD, b), (x, (Tensor?)null) })
            {
                using var actual = AtenLinear.Forward(input, w, bias);
                using var expected = Reference(input, w, bias);
                AssertClose(actual, expected);
            }
        }
    }

    [Fact]
    public void AContiguousBatchGivesTheRowsOfTheFlatInputBitForBit()
    {
        var (x, w, b) = Data(2, 7);
        using (x) using (w) using (b)
        {
            using var batched = AtenLinear.Forward(x, w, b);
            using var flat = x.reshape(14, 64);
            using var rows = AtenLinear.Forward(flat, w, b);
            using var rowsView = rows.view(2, 7, 48);
            Assert.True(batched.allclose(rowsView, rtol: 0, atol: 0), "the batched output differs from the flat one");
        }
    }
}
