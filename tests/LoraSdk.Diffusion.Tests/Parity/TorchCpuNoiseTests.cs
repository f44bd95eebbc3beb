using System;
using System.Linq;
using LoraSdk.Diffusion.Randomness;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>
/// The managed seeded noise (<see cref="TorchCpuNoise"/>). The recorded probes (<see cref="RngParityTests"/>) prove it
/// equals the reference's torch bit for bit; these cover the paths the probes do not reach.
/// </summary>
public sealed class TorchCpuNoiseTests
{
    /// <summary>
    /// A length that is not a multiple of 16 redraws and re-transforms the last 16 values. There is no recorded probe
    /// of such a length, so libtorch itself is the reference — but only where it runs its AVX2 kernel, the one the
    /// reference machine ran: under <c>ATEN_CPU_CAPABILITY=default</c> libtorch takes its generic kernel, whose bits
    /// differ by design (that difference is why the noise is computed in managed code).
    /// </summary>
    [Theory]
    [InlineData(17)]
    [InlineData(37)]
    [InlineData(1000)]
    public void TailRecomputeEqualsLibtorchsAvx2Kernel(int length)
    {
        using var managed = TorchCpuNoise.Randn(7, new long[] { length });
        using var generator = new Generator(0).manual_seed(7);
        using var native = randn(new long[] { length }, ScalarType.Float32, CPU, generator: generator);
        bool libtorchRunsAvx2 = !string.Equals(Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY"), "default", StringComparison.OrdinalIgnoreCase);
        if (libtorchRunsAvx2)
        {
            TensorAssert.Equal(managed, native, $"randn({length})");
        }
        else
        {
            // The generic kernel differs in the last bits only: same stream, other approximations of log/sin/cos.
            var a = managed.data<float>().ToArray();
            var b = native.data<float>().ToArray();
            Assert.True(a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= 1e-5f * Math.Max(1f, Math.Abs(p.Second))));
        }
    }

    [Fact]
    public void LogAndSinCosApproximateTheMathLibrary()
    {
        // The kernel's approximations are accurate to a few float ULPs over the ranges Box–Muller feeds them.
        for (float u = 1e-7f; u <= 1f; u *= 1.37f)
            Assert.True(Math.Abs(Avx2BoxMuller.Log(u) - Math.Log(u)) <= 2e-7 * Math.Max(1, Math.Abs(Math.Log(u))), $"log({u})");
        for (float t = 0f; t < 6.2831855f; t += 0.01f)
        {
            Avx2BoxMuller.SinCos(t, out float s, out float c);
            Assert.True(Math.Abs(s - Math.Sin(t)) <= 3e-7 && Math.Abs(c - Math.Cos(t)) <= 3e-7, $"sincos({t})");
        }
    }

    [Fact]
    public void OtherDtypesAndShortTensorsAreLibtorchsDraws()
    {
        using var shortManaged = TorchCpuNoise.Randn(3, new long[] { 5 });
        using var g = new Generator(0).manual_seed(3);
        using var shortNative = randn(new long[] { 5 }, ScalarType.Float32, CPU, generator: g);
        TensorAssert.Equal(shortManaged, shortNative, "randn(5)");
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchCpuNoise.Randn(0, new long[] { -1, 4 }));
    }
}
