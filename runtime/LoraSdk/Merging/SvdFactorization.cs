using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>
/// Re-factorises a merged delta weight into rank-r LoRA factors as PEFT's
/// <c>_svd_generalized_task_arithmetic_weighted_adapter</c> does: <c>U, S, Vh = linalg.svd(ΔW)</c>,
/// <c>B = U[:, :r] · diag(S[:r])</c>, <c>A = Vh[:r]</c>, optional symmetric clamping at the <c>svd_clamp</c> quantile of
/// all factor values, then reshape to the layer's factor shapes (Conv2d kernels are flattened to (out, in·kh·kw)).
/// Tensors created here belong to the caller's dispose scope.
/// </summary>
internal static class SvdFactorization
{
    /// <summary>PEFT's path: SVD of the dense delta. Returns (A, B) in the given target shapes (rank = aShape[0]).</summary>
    public static (Tensor A, Tensor B) Factorize(Tensor delta, long[] aShape, long[] bShape, double? clamp, bool fullMatrices)
    {
        var matrix = delta.dim() == 2 ? delta : delta.flatten(1);
        var (u, s, vh) = linalg.svd(matrix, fullMatrices);
        return Truncate(u, s, vh, aShape, bShape, clamp);
    }

    /// <summary>
    /// The same truncated SVD for ΔW = Σ cᵢ·Bᵢ·Aᵢ without forming ΔW: with B̂ = [c₁B₁ … cₙBₙ] = Q_B·R_B and
    /// Âᵀ = [A₁; …; Aₙ]ᵀ = Q_A·R_A, ΔW = Q_B·(R_B·R_Aᵀ)·Q_Aᵀ, so the SVD of the small core R_B·R_Aᵀ gives
    /// U = Q_B·U_c, S, Vh = Vh_c·Q_Aᵀ.
    /// </summary>
    public static (Tensor A, Tensor B) FactorizeLowRank(IReadOnlyList<(Tensor A, Tensor B, double Coefficient)> terms,
        long[] aShape, long[] bShape, double? clamp)
    {
        var up = cat(terms.Select(t => t.B.reshape(t.B.shape[0], t.B.shape[1]) * t.Coefficient).ToArray(), 1);
        var down = cat(terms.Select(t => t.A.reshape(t.A.shape[0], -1)).ToArray(), 0);
        var (qb, rb) = linalg.qr(up);
        var (qa, ra) = linalg.qr(down.t());
        var (uc, s, vhc) = linalg.svd(rb.matmul(ra.t()), false);
        return Truncate(qb.matmul(uc), s, vhc.matmul(qa.t()), aShape, bShape, clamp);
    }

    /// <summary>True when the low-rank path is cheaper: the stacked rank is below both matrix dimensions.</summary>
    public static bool LowRankApplies(long stackedRank, long outFeatures, long inFlat) =>
        stackedRank < outFeatures && stackedRank < inFlat;

    /// <remarks>
    /// When the delta has fewer singular values than the rank (rank &gt; min(out, in·kh·kw)), PEFT produces factors of
    /// mismatched ranks that fail at the next forward; here the missing components are zero rows/columns, so the
    /// product equals PEFT's truncated SVD and the merged adapter keeps its declared rank.
    /// </remarks>
    private static (Tensor A, Tensor B) Truncate(Tensor u, Tensor s, Tensor vh, long[] aShape, long[] bShape, double? clamp)
    {
        long rank = aShape[0];
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
