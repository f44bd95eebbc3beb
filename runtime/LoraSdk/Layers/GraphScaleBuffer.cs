using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// The effective LoRA scales of the pinned layers of one <see cref="GraphFactorStore"/>, one float32 per rank column,
/// in one device tensor: the store multiplies its unscaled B blocks by it (outside any graph) into the scaled B the
/// pinned forward reads, so a scale change is one host-to-device copy of the whole buffer plus that recompute — never a
/// change of the graph. The host keeps a mirror that layers write into; <see cref="Upload"/> sends it. Allocated once
/// when the component is pinned and never reallocated while it is.
/// </summary>
internal sealed class GraphScaleBuffer : IDisposable
{
    private Tensor? _values;

    public GraphScaleBuffer(Device device)
    {
        Device = device;
    }

    /// <summary>The device of the layers whose scales live here.</summary>
    public Device Device { get; }

    /// <summary>The host mirror, written by the layers; valid after <see cref="Allocate"/>.</summary>
    public float[] Host { get; private set; } = Array.Empty<float>();

    /// <summary>Entries reserved so far (before <see cref="Allocate"/>).</summary>
    public long Length { get; private set; }

    /// <summary>True when the host mirror changed since the last <see cref="Upload"/>.</summary>
    public bool Dirty { get; set; }

    /// <summary>
    /// True when the host mirror was replaced together with the scaled B it was folded into (a staged hotswap's image),
    /// so the device copy is behind but nothing reads it until the next recompute: <see cref="Upload"/> sends it then.
    /// </summary>
    public bool DeviceStale { get; set; }

    /// <summary>The device tensor (float32, <see cref="Length"/> entries).</summary>
    public Tensor Values => _values ?? throw new InvalidOperationException("the scale buffer is not allocated");

    /// <summary>Reserves <paramref name="count"/> entries; returns their offset.</summary>
    public long Reserve(long count)
    {
        if (_values is not null) throw new InvalidOperationException("the scale buffer is already allocated");
        long offset = Length;
        Length += count;
        return offset;
    }

    /// <summary>Allocates the device tensor and the host mirror (zeros).</summary>
    public void Allocate()
    {
        Host = new float[Length];
        _values = torch.zeros(Math.Max(1, Length), ScalarType.Float32, Device).DetachFromDisposeScope();
        Dirty = true;
    }

    /// <summary>A view of <paramref name="count"/> entries at <paramref name="offset"/> (the caller disposes it).</summary>
    public Tensor View(long offset, long count) => Values.narrow(0, offset, count).DetachFromDisposeScope();

    /// <summary>
    /// Copies the host mirror into the device tensor when it changed (true then): one copy, ordered after the work already queued
    /// on the current stream (replays included) and before the work queued after it.
    /// </summary>
    public bool Upload()
    {
        if ((!Dirty && !DeviceStale) || Length == 0) return false;
        using var source = torch.tensor(Host, new[] { Length }, ScalarType.Float32);
        using (torch.no_grad())
        {
            using var target = Values.narrow(0, 0, Length);
            target.copy_(source, true);  // non-blocking: the source is staged before the call returns
        }
        Dirty = false;
        DeviceStale = false;
        return true;
    }

    /// <summary>Frees the device tensor.</summary>
    public void Dispose()
    {
        _values?.Dispose();
        _values = null;
    }
}
