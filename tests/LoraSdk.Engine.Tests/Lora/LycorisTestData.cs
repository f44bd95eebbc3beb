using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>One LyCORIS module of a test file: the layer it targets and its tensors by LyCORIS name (<c>hada_w1_a</c>, …).</summary>
internal sealed record LycorisModule(string Path, IReadOnlyDictionary<string, Tensor> Tensors);

/// <summary>
/// A LoHa or LoKr adapter for <see cref="TinyModel"/> in one of its forms, with the scale LyCORIS applies
/// (<paramref name="Scale"/>: alpha / rank, 1 for LoKr with two full factors) and the file alpha.
/// </summary>
internal sealed record LycorisCase(string Name, string Variant, double Alpha, double Scale, IReadOnlyList<LycorisModule> Modules)
{
    public override string ToString() => Name;
}

/// <summary>
/// The LoHa / LoKr forms the engine applies, as seeded random tensors for <see cref="TinyModel"/> (proj_in Linear 8→16,
/// proj_out Linear 16→8, conv1 Conv2d 4→6 3×3), their files (kohya names) and ΔW computed here from the tensors,
/// independently of the engine: LoHa (w1a·w1b) ⊙ (w2a·w2b), Tucker cores summed term by term, Kronecker products
/// assembled block by block, in float64.
/// </summary>
internal static class LycorisTestData
{
    public static readonly string[] CaseNames =
    {
        "loha", "loha_tucker", "lokr_w2_factorised", "lokr_w1_factorised", "lokr_both_factorised", "lokr_full", "lokr_tucker",
    };

    public static LycorisCase Case(string name)
    {
        using var g = new Generator(1234 + (ulong)Array.IndexOf(CaseNames, name));
        LycorisModule M(string path, params (string Suffix, long[] Shape)[] tensors) =>
            new LycorisModule(path, tensors.ToDictionary(t => t.Suffix, t => randn(t.Shape, ScalarType.Float32, generator: g).mul_(0.5)));
        return name switch
        {
            "loha" => new LycorisCase(name, "loha", 2, 2.0 / 3, new[]
            {
                M(TinyModel.ProjIn, ("hada_w1_a", new long[] { 16, 3 }), ("hada_w1_b", new long[] { 3, 8 }), ("hada_w2_a", new long[] { 16, 3 }), ("hada_w2_b", new long[] { 3, 8 })),
                M(TinyModel.ProjOut, ("hada_w1_a", new long[] { 8, 3 }), ("hada_w1_b", new long[] { 3, 16 }), ("hada_w2_a", new long[] { 8, 3 }), ("hada_w2_b", new long[] { 3, 16 })),
                M(TinyModel.Conv1, ("hada_w1_a", new long[] { 6, 3 }), ("hada_w1_b", new long[] { 3, 36 }), ("hada_w2_a", new long[] { 6, 3 }), ("hada_w2_b", new long[] { 3, 36 })),
            }),
            "loha_tucker" => new LycorisCase(name, "loha", 1.5, 0.5, new[]
            {
                M(TinyModel.ProjIn, ("hada_w1_a", new long[] { 16, 3 }), ("hada_w1_b", new long[] { 3, 8 }), ("hada_w2_a", new long[] { 16, 3 }), ("hada_w2_b", new long[] { 3, 8 })),
                M(TinyModel.Conv1, ("hada_t1", new long[] { 3, 3, 3, 3 }), ("hada_w1_a", new long[] { 3, 6 }), ("hada_w1_b", new long[] { 3, 4 }),
                    ("hada_t2", new long[] { 3, 3, 3, 3 }), ("hada_w2_a", new long[] { 3, 6 }), ("hada_w2_b", new long[] { 3, 4 })),
            }),
            "lokr_w2_factorised" => new LycorisCase(name, "lokr", 3, 1.5, new[]
            {
                M(TinyModel.ProjIn, ("lokr_w1", new long[] { 2, 2 }), ("lokr_w2_a", new long[] { 8, 2 }), ("lokr_w2_b", new long[] { 2, 4 })),
                M(TinyModel.Conv1, ("lokr_w1", new long[] { 2, 2 }), ("lokr_w2_a", new long[] { 3, 2 }), ("lokr_w2_b", new long[] { 2, 18 })),
            }),
            "lokr_w1_factorised" => new LycorisCase(name, "lokr", 4, 2, new[]
            {
                M(TinyModel.ProjIn, ("lokr_w1_a", new long[] { 4, 2 }), ("lokr_w1_b", new long[] { 2, 4 }), ("lokr_w2", new long[] { 4, 2 })),
                M(TinyModel.Conv1, ("lokr_w1_a", new long[] { 2, 2 }), ("lokr_w1_b", new long[] { 2, 2 }), ("lokr_w2", new long[] { 3, 2, 3, 3 })),
            }),
            "lokr_both_factorised" => new LycorisCase(name, "lokr", 6, 2, new[]
            {
                M(TinyModel.ProjOut, ("lokr_w1_a", new long[] { 2, 3 }), ("lokr_w1_b", new long[] { 3, 4 }), ("lokr_w2_a", new long[] { 4, 3 }), ("lokr_w2_b", new long[] { 3, 4 })),
            }),
            "lokr_full" => new LycorisCase(name, "lokr", 5, 1, new[]
            {
                M(TinyModel.ProjIn, ("lokr_w1", new long[] { 2, 2 }), ("lokr_w2", new long[] { 8, 4 })),
                M(TinyModel.ProjOut, ("lokr_w1", new long[] { 4, 4 }), ("lokr_w2", new long[] { 2, 4 })),
                M(TinyModel.Conv1, ("lokr_w1", new long[] { 2, 2 }), ("lokr_w2", new long[] { 3, 2, 3, 3 })),
            }),
            "lokr_tucker" => new LycorisCase(name, "lokr", 1, 0.5, new[]
            {
                M(TinyModel.Conv1, ("lokr_w1", new long[] { 2, 2 }), ("lokr_t2", new long[] { 2, 2, 3, 3 }), ("lokr_w2_a", new long[] { 2, 3 }), ("lokr_w2_b", new long[] { 2, 2 })),
            }),
            _ => throw new ArgumentException(name, nameof(name)),
        };
    }

    /// <summary>kohya / LyCORIS keys: <c>lora_unet_&lt;path with _&gt;.&lt;tensor&gt;</c> and <c>.alpha</c> (float32 scalar).</summary>
    public static List<KeyValuePair<string, Tensor>> KohyaTensors(LycorisCase c)
    {
        var list = new List<KeyValuePair<string, Tensor>>();
        foreach (var m in c.Modules)
        {
            string name = "lora_unet_" + m.Path.Replace('.', '_');
            foreach (var (suffix, t) in m.Tensors) list.Add(new(name + "." + suffix, t));
            list.Add(new(name + ".alpha", tensor((float)c.Alpha)));
        }
        return list;
    }

    /// <summary>ΔW (unscaled) of a module, in float64, shaped like <paramref name="weightShape"/>.</summary>
    public static Tensor Delta(string variant, IReadOnlyDictionary<string, Tensor> t, long[] weightShape)
    {
        Tensor D(string name) => t[name].to(ScalarType.Float64);
        Tensor delta;
        if (variant == "loha")
        {
            delta = t.ContainsKey("hada_t1")
                ? TuckerByTerms(D("hada_t1"), D("hada_w1_a"), D("hada_w1_b")) * TuckerByTerms(D("hada_t2"), D("hada_w2_a"), D("hada_w2_b"))
                : D("hada_w1_a").matmul(D("hada_w1_b")) * D("hada_w2_a").matmul(D("hada_w2_b"));
        }
        else
        {
            var w1 = t.ContainsKey("lokr_w1") ? D("lokr_w1") : D("lokr_w1_a").matmul(D("lokr_w1_b"));
            var w2 = t.ContainsKey("lokr_w2") ? D("lokr_w2")
                : t.ContainsKey("lokr_t2") ? TuckerByTerms(D("lokr_t2"), D("lokr_w2_a"), D("lokr_w2_b"))
                : D("lokr_w2_a").matmul(D("lokr_w2_b"));
            delta = KroneckerByBlocks(w1, w2);
        }
        return delta.reshape(weightShape);
    }

    /// <summary>Σᵢⱼ core[i, j] ⊗ (a[i] outer b[j]): (out, in, kh, kw), one term at a time.</summary>
    private static Tensor TuckerByTerms(Tensor core, Tensor a, Tensor b)
    {
        long p = core.shape[0], q = core.shape[1];
        var result = zeros(new[] { a.shape[1], b.shape[1], core.shape[2], core.shape[3] }, ScalarType.Float64);
        for (long i = 0; i < p; i++)
            for (long j = 0; j < q; j++)
                result += a[i].view(-1, 1, 1, 1) * b[j].view(1, -1, 1, 1) * core[i, j].unsqueeze(0).unsqueeze(0);
        return result;
    }

    /// <summary>kron(w1 (a, c), w2 (b, d[, kh, kw])): block (i, j) of size (b, d) is w1[i, j] · w2.</summary>
    private static Tensor KroneckerByBlocks(Tensor w1, Tensor w2)
    {
        long a = w1.shape[0], c = w1.shape[1], b = w2.shape[0], d = w2.shape[1];
        var shape = w2.shape.ToArray();
        shape[0] = a * b;
        shape[1] = c * d;
        var result = zeros(shape, ScalarType.Float64);
        for (long i = 0; i < a; i++)
            for (long j = 0; j < c; j++)
                result.narrow(0, i * b, b).narrow(1, j * d, d).copy_(w2 * w1[i, j].item<double>());
        return result;
    }
}
