using System.Collections.Generic;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// LyCORIS LoHa (low-rank Hadamard product): ΔW = (w1a · w1b) ⊙ (w2a · w2b), scaled by alpha / rank with rank =
/// <c>hada_w1_b</c> dim 0. hada_w*_a is (out, r) and hada_w*_b (r, in·kh·kw); with the Tucker cores hada_t1/hada_t2
/// (r, r, kh, kw), each factor is Σᵢⱼ t[i, j] · w_a[i, out] · w_b[j, in] with hada_w*_a (r, out) and hada_w*_b (r, in).
/// </summary>
public sealed class LohaWeights : LycorisWeights
{
    internal LohaWeights(string adapterName, IReadOnlyDictionary<LoraTensorRole, Tensor> tensors, int rank, double alpha)
        : base(adapterName, tensors, rank, alpha)
    {
    }

    /// <inheritdoc />
    public override string Variant => LoraVariants.LoHa;

    /// <summary>True with the Tucker cores <c>hada_t1</c> / <c>hada_t2</c>.</summary>
    public bool UsesTucker => Has(LoraTensorRole.HadaT1);

    internal override Tensor ComputeDelta(ScalarType dtype)
    {
        var w1a = Factor(LoraTensorRole.HadaW1A, dtype);
        var w1b = Factor(LoraTensorRole.HadaW1B, dtype);
        var w2a = Factor(LoraTensorRole.HadaW2A, dtype);
        var w2b = Factor(LoraTensorRole.HadaW2B, dtype);
        if (UsesTucker)
        {
            var first = Tucker(Factor(LoraTensorRole.HadaT1, dtype), w1a, w1b);
            var second = Tucker(Factor(LoraTensorRole.HadaT2, dtype), w2a, w2b);
            return first.mul_(second);
        }
        return w1a.mm(w1b).mul_(w2a.mm(w2b));
    }

    /// <summary>ΔW's shape: (w1a[0], w1b[1]), or with Tucker (w1a[1], w1b[1], kh, kw).</summary>
    internal static long[]? DeltaShapeOf(IReadOnlyDictionary<LoraTensorRole, long[]> s)
    {
        if (!s.TryGetValue(LoraTensorRole.HadaW1A, out var w1a) || !s.TryGetValue(LoraTensorRole.HadaW1B, out var w1b)
            || w1a.Length != 2 || w1b.Length != 2)
            return null;
        if (s.TryGetValue(LoraTensorRole.HadaT1, out var t1))
            return t1.Length == 4 ? new[] { w1a[1], w1b[1], t1[2], t1[3] } : null;
        return new[] { w1a[0], w1b[1] };
    }
}
