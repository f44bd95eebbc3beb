using System;
using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>
/// Re-factorises a merged delta weight into rank-r LoRA factors as PEFT's
/// <c>_svd_generalized_task_arithmetic_weighted_adapter</c> does: <c>U, S, Vh = linalg.svd(ΔW)</c>,
/// <c>B = U[:, :r] · diag(S[:r])</c>, <c>A = Vh[:r]</c>, optional symmetric clamping at the <c>svd_clamp</c> quantile of
/// all factor values, then reshape to the layer's factor shapes (Conv2d kernels are flattened to (out, in·kh·kw)).
/// </summary>
internal static class SvdFactorization
{
    /// <summary>Returns (A, B) in the given target shapes (rank = aShape[0]).</summary>
    /// <remarks>
    /// When the delta has fewer singular values than the rank (rank &gt; min(out, in·kh·kw)), PEFT produces factors of
    /// mismatched ranks that fail at the next forward; here the missing components are zero rows/columns, so the
    /// product equals PEFT's truncated SVD and the merged adapter keeps its declared rank.
    /// </remarks>
    public static (Tensor A, Tensor B) Factorize(Tensor delta, long[] aShape, long[] bShape, double? clamp, bool fullMatrices)
    {
        long rank = aShape[0];
        var matrix = delta.dim() == 2 ? delta : delta.flatten(1);
        var (u, s, vh) = linalg.svd(matrix, fullMatrices);
        long k = Math.Min(rank, s.shape[0]);
        var up = u.narrow(1, 0, k).matmul(diag(s.narrow(0, 0, k)));
        var down = vh.narrow(0, 0, k);
        if (clamp is double q)
        {
            var distribution = cat(new[] { up.flatten(), down.flatten() });
            var hi = distribution.quantile(tensor(q, distribution.dtype, distribution.device));
            var lo = -hi;
            up = up.clamp(lo, hi);
            down = down.clamp(lo, hi);
        }
        if (k < rank)
        {
            up = cat(new[] { up, zeros(up.shape[0], rank - k, up.dtype, up.device) }, 1);
            down = cat(new[] { down, zeros(rank - k, down.shape[1], down.dtype, down.device) }, 0);
        }
        return (down.reshape(aShape), up.reshape(bShape));
    }
}
