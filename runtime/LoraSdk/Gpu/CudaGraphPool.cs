using System;
using System.Globalization;
using TorchSharp;

namespace LoraSdk.Gpu;

/// <summary>
/// The id of a private CUDA memory pool that several graphs capture into (PyTorch's <c>graph_pool_handle()</c> or
/// <c>graph.pool()</c>). Sharing one pool between graphs of different shapes saves memory; it is safe because the
/// graphs of one pool are replayed one at a time on one stream, and a graph's outputs are valid until the next replay
/// of any graph of the pool: copy them out (or consume them) before replaying another.
/// </summary>
public sealed class CudaGraphPool : IEquatable<CudaGraphPool>
{
    internal CudaGraphPool(int deviceIndex, ulong first, ulong second)
    {
        DeviceIndex = deviceIndex;
        First = first;
        Second = second;
    }

    /// <summary>The CUDA device whose memory the pool holds.</summary>
    public int DeviceIndex { get; }

    internal ulong First { get; }

    internal ulong Second { get; }

    /// <summary>A new pool id on <paramref name="device"/>; the pool itself is made by the first capture that uses it.</summary>
    /// <exception cref="CudaGraphException">Not a CUDA device, CUDA unavailable, or the native library missing or mismatched.</exception>
    public static CudaGraphPool Create(torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var backend = CudaGraphRuntime.BackendFor(device, out int index);
        var (first, second) = backend.NewPoolId();
        return new CudaGraphPool(index, first, second);
    }

    /// <inheritdoc />
    public bool Equals(CudaGraphPool? other) =>
        other is not null && DeviceIndex == other.DeviceIndex && First == other.First && Second == other.Second;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CudaGraphPool);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DeviceIndex, First, Second);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"cuda:{DeviceIndex} pool ({First}, {Second})");
}
