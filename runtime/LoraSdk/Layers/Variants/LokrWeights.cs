using System.Collections.Generic;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// LyCORIS LoKr (low-rank Kronecker product): ΔW = kron(w1, w2), scaled by alpha / rank. w1 is <c>lokr_w1</c> (a, c) or
/// <c>lokr_w1_a</c> · <c>lokr_w1_b</c>; w2 is <c>lokr_w2</c> ((b, d) or (b, d, kh, kw)), <c>lokr_w2_a</c> · <c>lokr_w2_b</c>
/// ((b, r) · (r, d·kh·kw)) or, with the Tucker core <c>lokr_t2</c>, Σᵢⱼ t2[i, j] · w2_a[i, b] · w2_b[j, d]. A 4-D w2 makes
/// ΔW (a·b, c·d, kh, kw) (w1 broadcast over the kernel, as LyCORIS unsqueezes it). The rank is <c>lokr_w2_b</c> dim 0
/// when w2 is factorised, else <c>lokr_w1_b</c> dim 0; with two full factors the file's alpha is ignored and the scale
/// is 1 (rank = alpha = 1).
/// </summary>
public sealed class LokrWeights : LycorisWeights
{
    internal LokrWeights(string adapterName, IReadOnlyDictionary<LoraTensorRole, Tensor> tensors, int rank, double alpha)
        : base(adapterName, tensors, rank, alpha)
    {
    }

    /// <inheritdoc />
    public override string Variant => LoraVariants.LoKr;

    /// <summary>True with the Tucker core <c>lokr_t2</c>.</summary>
    public bool UsesTucker => Has(LoraTensorRole.LokrT2);

    internal override Tensor ComputeDelta(ScalarType dtype)
    {
        var w1 = Has(LoraTensorRole.LokrW1)
            ? Factor(LoraTensorRole.LokrW1, dtype)
            : Factor(LoraTensorRole.LokrW1A, dtype).mm(Factor(LoraTensorRole.LokrW1B, dtype));
        Tensor w2;
        if (Has(LoraTensorRole.LokrW2)) w2 = Factor(LoraTensorRole.LokrW2, dtype);
        else if (UsesTucker) w2 = Tucker(Factor(LoraTensorRole.LokrT2, dtype), Factor(LoraTensorRole.LokrW2A, dtype), Factor(LoraTensorRole.LokrW2B, dtype));
        else w2 = Factor(LoraTensorRole.LokrW2A, dtype).mm(Factor(LoraTensorRole.LokrW2B, dtype));
        if (w2.dim() == 4) w1 = w1.unsqueeze(-1).unsqueeze(-1);
        // libtorch's kron views its operands: the Tucker rebuild is not contiguous (LyCORIS makes w2 contiguous too).
        return kron(w1.contiguous(), w2.contiguous());
    }

    /// <summary>ΔW's shape: (a·b, c·d) or (a·b, c·d, kh, kw).</summary>
    internal static long[]? DeltaShapeOf(IReadOnlyDictionary<LoraTensorRole, long[]> s)
    {
        long a, c;
        if (s.TryGetValue(LoraTensorRole.LokrW1, out var w1) && w1.Length == 2) (a, c) = (w1[0], w1[1]);
        else if (s.TryGetValue(LoraTensorRole.LokrW1A, out var w1a) && s.TryGetValue(LoraTensorRole.LokrW1B, out var w1b) && w1a.Length == 2 && w1b.Length == 2)
            (a, c) = (w1a[0], w1b[1]);
        else return null;
        long[] second;
        if (s.TryGetValue(LoraTensorRole.LokrW2, out var w2)) second = w2;
        else if (!s.TryGetValue(LoraTensorRole.LokrW2A, out var w2a) || !s.TryGetValue(LoraTensorRole.LokrW2B, out var w2b) || w2a.Length != 2 || w2b.Length != 2)
            return null;
        else if (s.TryGetValue(LoraTensorRole.LokrT2, out var t2)) second = t2.Length == 4 ? new[] { w2a[1], w2b[1], t2[2], t2[3] } : new long[0];
        else second = new[] { w2a[0], w2b[1] };
        if (second.Length == 2) return new[] { a * second[0], c * second[1] };
        if (second.Length == 4) return new[] { a * second[0], c * second[1], second[2], second[3] };
        return null;
    }
}
