using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// The shapes of LyCORIS LoHa and LoKr modules: which tensors a module needs, how they compose to the layer's weight
/// ΔW (out, in[, kh, kw]) and which rank LyCORIS scales by (<c>alpha / rank</c>; LoHa: <c>hada_w1_b</c> dim 0; LoKr:
/// <c>lokr_w2_b</c> dim 0 when the second factor is factorised, else <c>lokr_w1_b</c> dim 0, and scale 1 with two full
/// factors — as ComfyUI and stable-diffusion.cpp read these files).
/// </summary>
internal sealed partial class LoraFileModelBuilder
{
    /// <summary>
    /// LoHa: ΔW = (w1a·w1b) ⊙ (w2a·w2b); hada_w*_a (out, r), hada_w*_b (r, in·kh·kw). With Tucker cores hada_t1/t2
    /// (r, r, kh, kw): each factor is Σ t[i, j] · w_a[i, out] · w_b[j, in], hada_w*_a being (r, out) and hada_w*_b (r, in).
    /// </summary>
    private Shaped? ShapeLoha(Group g)
    {
        var w1a = Tensor(g, LoraTensorRole.HadaW1A);
        var w1b = Tensor(g, LoraTensorRole.HadaW1B);
        var w2a = Tensor(g, LoraTensorRole.HadaW2A);
        var w2b = Tensor(g, LoraTensorRole.HadaW2B);
        var t1 = Tensor(g, LoraTensorRole.HadaT1);
        var t2 = Tensor(g, LoraTensorRole.HadaT2);
        var missing = new List<string>();
        if (w1a == null) missing.Add("hada_w1_a");
        if (w1b == null) missing.Add("hada_w1_b");
        if (w2a == null) missing.Add("hada_w2_a");
        if (w2b == null) missing.Add("hada_w2_b");
        if ((t1 == null) != (t2 == null)) missing.Add(t1 == null ? "hada_t1 (hada_t2 is present)" : "hada_t2 (hada_t1 is present)");
        if (missing.Count > 0)
        {
            Invalid(g, "LoHa module without " + string.Join(", ", missing));
            return null;
        }
        var s = new Shaped(g) { Variant = LoraVariants.LoHa };
        if (t1 != null)
        {
            if (!TuckerFactor(g, "hada_t1", t1, "hada_w1_a", w1a!, "hada_w1_b", w1b!, out var first)
                || !TuckerFactor(g, "hada_t2", t2!, "hada_w2_a", w2a!, "hada_w2_b", w2b!, out var second))
                return null;
            if (!SameShape(first, second))
            {
                Invalid(g, $"LoHa factors do not compose: hada_t1/hada_w1_* give {SafetensorsHeader.FormatShape(first)} but hada_t2/hada_w2_* give {SafetensorsHeader.FormatShape(second)}");
                return null;
            }
            if (!SetRank(g, s, w1b!.Shape[0])) return null;
            s.Kind = LoraLayerKind.Conv2d;
            s.Out = first[0];
            s.In = first[1];
            s.Kernel = Kernel(first[2], first[3]);
            if (s.Kernel == null)
            {
                Invalid(g, "kernel size out of range");
                return null;
            }
            return CheckAlphaIsScalar(g) ? s : null;
        }
        if (!MatrixProduct(g, "hada_w1_a", w1a!, "hada_w1_b", w1b!, out long out1, out long in1)
            || !MatrixProduct(g, "hada_w2_a", w2a!, "hada_w2_b", w2b!, out long out2, out long in2))
            return null;
        if (out1 != out2 || in1 != in2)
        {
            Invalid(g, $"LoHa factors do not compose: hada_w1_a·hada_w1_b is [{out1}, {in1}] but hada_w2_a·hada_w2_b is [{out2}, {in2}]");
            return null;
        }
        if (!SetRank(g, s, w1b!.Shape[0])) return null;
        ResolveFlat(g, s, out1, in1);
        return CheckAlphaIsScalar(g) ? s : null;
    }

    /// <summary>
    /// LoKr: ΔW = kron(w1, w2), w1 = lokr_w1 (a, c) or lokr_w1_a·lokr_w1_b; w2 = lokr_w2 ((b, d) or (b, d, kh, kw)),
    /// lokr_w2_a·lokr_w2_b ((b, r)·(r, d·kh·kw)) or, with the Tucker core lokr_t2 (r, r, kh, kw), Σ t[i, j] · w2_a[i, b] ·
    /// w2_b[j, d]; ΔW is (a·b, c·d[, kh, kw]).
    /// </summary>
    private Shaped? ShapeLokr(Group g)
    {
        var w1 = Tensor(g, LoraTensorRole.LokrW1);
        var w1a = Tensor(g, LoraTensorRole.LokrW1A);
        var w1b = Tensor(g, LoraTensorRole.LokrW1B);
        var w2 = Tensor(g, LoraTensorRole.LokrW2);
        var w2a = Tensor(g, LoraTensorRole.LokrW2A);
        var w2b = Tensor(g, LoraTensorRole.LokrW2B);
        var t2 = Tensor(g, LoraTensorRole.LokrT2);
        string? problem =
            w1 != null && (w1a != null || w1b != null) ? "has both lokr_w1 and lokr_w1_a/lokr_w1_b"
            : w1 == null && (w1a == null || w1b == null) ? "has neither lokr_w1 nor both lokr_w1_a and lokr_w1_b"
            : w2 != null && (w2a != null || w2b != null || t2 != null) ? "has both lokr_w2 and lokr_w2_a/lokr_w2_b/lokr_t2"
            : w2 == null && (w2a == null || w2b == null) ? "has neither lokr_w2 nor both lokr_w2_a and lokr_w2_b"
            : null;
        if (problem != null)
        {
            Invalid(g, "LoKr module " + problem);
            return null;
        }
        var s = new Shaped(g) { Variant = LoraVariants.LoKr };

        // The first factor: (a, c).
        long a, c;
        if (w1 != null)
        {
            if (w1.Shape.Length != 2 || !Positive(w1.Shape))
            {
                Invalid(g, $"lokr_w1 {SafetensorsHeader.FormatShape(w1.Shape)} is not a matrix");
                return null;
            }
            a = w1.Shape[0];
            c = w1.Shape[1];
        }
        else if (!MatrixProduct(g, "lokr_w1_a", w1a!, "lokr_w1_b", w1b!, out a, out c))
        {
            return null;
        }

        // The second factor: (b, d[, kh, kw]) or (b, d·kh·kw).
        long b, d;
        long[]? kernel = null;
        if (w2 != null)
        {
            if ((w2.Shape.Length != 2 && w2.Shape.Length != 4) || !Positive(w2.Shape))
            {
                Invalid(g, $"lokr_w2 {SafetensorsHeader.FormatShape(w2.Shape)} is neither (out, in) nor (out, in, kh, kw)");
                return null;
            }
            b = w2.Shape[0];
            d = w2.Shape[1];
            if (w2.Shape.Length == 4) kernel = new[] { w2.Shape[2], w2.Shape[3] };
        }
        else if (t2 != null)
        {
            if (!TuckerFactor(g, "lokr_t2", t2, "lokr_w2_a", w2a!, "lokr_w2_b", w2b!, out var rebuilt)) return null;
            b = rebuilt[0];
            d = rebuilt[1];
            kernel = new[] { rebuilt[2], rebuilt[3] };
        }
        else if (!MatrixProduct(g, "lokr_w2_a", w2a!, "lokr_w2_b", w2b!, out b, out d))
        {
            return null;
        }

        long rank = w2b != null ? w2b.Shape[0] : w1b != null ? w1b.Shape[0] : 1;
        s.AlphaIgnored = w1 != null && w2 != null;
        if (!SetRank(g, s, rank)) return null;
        if (!Multiply(a, b, out long outFeatures) || !Multiply(c, d, out long inFeatures))
        {
            Invalid(g, "LoKr factors are too large");
            return null;
        }
        if (kernel != null)
        {
            s.Kind = LoraLayerKind.Conv2d;
            s.Out = outFeatures;
            s.In = inFeatures;
            s.Kernel = Kernel(kernel[0], kernel[1]);
            if (s.Kernel == null)
            {
                Invalid(g, "kernel size out of range");
                return null;
            }
        }
        else
        {
            ResolveFlat(g, s, outFeatures, inFeatures);
        }
        return CheckAlphaIsScalar(g) ? s : null;
    }

    private static SafetensorsTensorInfo? Tensor(Group g, LoraTensorRole role) => g.Tensors.TryGetValue(role, out var t) ? t : null;

    /// <summary>up (out, r) · down (r, in): both matrices sharing r.</summary>
    private bool MatrixProduct(Group g, string upName, SafetensorsTensorInfo up, string downName, SafetensorsTensorInfo down, out long rows, out long columns)
    {
        rows = columns = 0;
        var u = up.Shape;
        var d = down.Shape;
        if (u.Length != 2 || d.Length != 2 || !Positive(u) || !Positive(d) || u[1] != d[0])
        {
            Invalid(g, $"{upName} {SafetensorsHeader.FormatShape(u)} and {downName} {SafetensorsHeader.FormatShape(d)} do not compose " +
                $"(expected (out, r) and (r, in) sharing a positive r)");
            return false;
        }
        rows = u[0];
        columns = d[1];
        return true;
    }

    /// <summary>Tucker: core (p, q, kh, kw), a (p, out), b (q, in) → (out, in, kh, kw).</summary>
    private bool TuckerFactor(Group g, string coreName, SafetensorsTensorInfo core, string aName, SafetensorsTensorInfo a,
        string bName, SafetensorsTensorInfo b, out long[] shape)
    {
        shape = System.Array.Empty<long>();
        var t = core.Shape;
        if (t.Length != 4 || a.Shape.Length != 2 || b.Shape.Length != 2 || !Positive(t) || !Positive(a.Shape) || !Positive(b.Shape)
            || a.Shape[0] != t[0] || b.Shape[0] != t[1])
        {
            Invalid(g, $"Tucker {coreName} {SafetensorsHeader.FormatShape(t)}, {aName} {SafetensorsHeader.FormatShape(a.Shape)} and " +
                $"{bName} {SafetensorsHeader.FormatShape(b.Shape)} do not compose (expected (r, r, kh, kw), (r, out) and (r, in))");
            return false;
        }
        shape = new[] { a.Shape[1], b.Shape[1], t[2], t[3] };
        return true;
    }

    private bool SetRank(Group g, Shaped s, long rank)
    {
        if (rank < 1 || rank > int.MaxValue)
        {
            Invalid(g, $"rank {rank} out of range");
            return false;
        }
        s.Rank = (int)rank;
        return true;
    }

    /// <summary>
    /// A ΔW given as a flat (out, in·kh·kw) matrix is Linear, unless the UNet layouts have a Conv2d layer at this path
    /// whose weight it composes to (then that layer's channels and kernel).
    /// </summary>
    private void ResolveFlat(Group g, Shaped s, long outFeatures, long flatIn)
    {
        s.Out = outFeatures;
        s.Kind = LoraLayerKind.Linear;
        s.In = flatIn;
        if (g.Component != LoraComponents.Unet) return;
        var layouts = new List<UnetLayout> { _options.Unet };
        foreach (var l in UnetLayout.BuiltIn) if (!layouts.Contains(l)) layouts.Add(l);
        foreach (var layout in layouts)
        {
            if (!layout.TryGetModule(g.Path, out var info) || info.Kind != LoraLayerKind.Conv2d || info.KernelSize is not { Count: 2 } k) continue;
            if (info.OutFeatures != outFeatures || info.InFeatures * k[0] * k[1] != flatIn) continue;
            s.Kind = LoraLayerKind.Conv2d;
            s.In = info.InFeatures;
            s.Kernel = new[] { k[0], k[1] };
            return;
        }
    }

    private static bool SameShape(long[] a, long[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    private static bool Positive(long[] shape)
    {
        foreach (long d in shape) if (d < 1) return false;
        return true;
    }

    private static bool Multiply(long x, long y, out long product)
    {
        product = 0;
        if (x > long.MaxValue / y) return false;
        product = x * y;
        return true;
    }
}
