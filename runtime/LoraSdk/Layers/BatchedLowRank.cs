using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// The factors of several active LoRA adapters of one layer joined into one: A stacked as (R, in[, kh, kw]) and B
/// pre-scaled and stacked as (out, R), so the forward pass runs one low-rank product instead of one per adapter. The
/// buffers are reused while their shape, dtype and device still fit.
/// </summary>
internal sealed class BatchedLowRank
{
    private Tensor? _a;
    private Tensor? _b;

    /// <summary>The stacked A, or null before <see cref="Build"/>.</summary>
    public Tensor? A => _a;

    /// <summary>The stacked, pre-scaled B, or null before <see cref="Build"/>.</summary>
    public Tensor? B => _b;

    /// <summary>Stacks <paramref name="adapters"/> (all low-rank), B scaled by each scaling × <paramref name="runtimeScale"/>.</summary>
    public void Build(IReadOnlyList<AdapterWeights> adapters, long outFeatures, double runtimeScale)
    {
        long total = 0;
        foreach (var w in adapters) total += ((LowRankWeights)w).TensorRank;
        var first = ((LowRankWeights)adapters[0]).A;
        long[] aShape = (long[])first.shape.Clone();
        aShape[0] = total;
        bool reuse = _a is not null && _b is not null
            && SameShape(_a.shape, aShape) && _b.shape[0] == outFeatures && _b.shape[1] == total
            && _a.dtype == first.dtype && _a.device.ToString() == first.device.ToString();
        if (!reuse)
        {
            Release();
            _a = torch.empty(aShape, first.dtype, first.device).DetachFromDisposeScope();
            _b = torch.empty(new[] { outFeatures, total }, first.dtype, first.device).DetachFromDisposeScope();
        }
        long offset = 0;
        using var scope = torch.NewDisposeScope();
        foreach (var adapter in adapters)
        {
            var w = (LowRankWeights)adapter;
            long r = w.TensorRank;
            _a!.narrow(0, offset, r).copy_(w.A);
            var slice = _b!.narrow(1, offset, r);
            slice.copy_(w.B.reshape(outFeatures, r));
            slice.mul_(w.Scaling * runtimeScale);
            offset += r;
        }
    }

    /// <summary>Frees the buffers.</summary>
    public void Release()
    {
        _a?.Dispose();
        _b?.Dispose();
        _a = null;
        _b = null;
    }

    private static bool SameShape(long[] a, long[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
