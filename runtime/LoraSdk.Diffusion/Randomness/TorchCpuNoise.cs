using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Randomness;

/// <summary>
/// Seeded Gaussian noise equal bit for bit to <c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c>
/// as the reference (diffusers on an x86-64 CPU with AVX2 or AVX-512) draws it — on every CPU.
/// </summary>
/// <remarks>
/// libtorch fills a contiguous float32 tensor of 16 or more elements with a Box–Muller transform whose logarithm and
/// sine/cosine are polynomial approximations in its AVX2 kernel, and with the C library's functions in its generic
/// kernel (CPUs without AVX2, or <c>ATEN_CPU_CAPABILITY=default</c>), so the same seed gave different bits depending on
/// the machine. Here that case is computed in managed code (<see cref="Mt19937"/> + <see cref="Avx2BoxMuller"/>),
/// reproducing the AVX2 kernel's float operations one by one. Other dtypes and tensors under 16 elements take libtorch's
/// scalar path, which does not depend on the CPU's instruction set, and are drawn by libtorch.
/// </remarks>
public static class TorchCpuNoise
{
    /// <summary>Draws standard normal noise of <paramref name="shape"/> on the CPU from a generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Randn(long seed, long[] shape, ScalarType dtype = ScalarType.Float32)
    {
        if (shape is null) throw new ArgumentNullException(nameof(shape));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), $"negative dimension {d}");
            count = checked(count * d);
        }
        if (dtype != ScalarType.Float32 || count < Avx2BoxMuller.ChunkSize)
        {
            using var generator = new Generator(0).manual_seed(seed);
            return randn(shape, dtype, CPU, generator: generator);
        }
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(shape), "more than 2^31 elements");
        var values = new float[count];
        Avx2BoxMuller.Fill(values, new Mt19937(unchecked((ulong)seed)), mean: 0f, std: 1f);
        return tensor(values, shape, ScalarType.Float32);
    }
}
