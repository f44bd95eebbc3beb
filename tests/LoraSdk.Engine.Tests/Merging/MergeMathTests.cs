using LoraSdk.Core;
using System;
using System.Linq;
using LoraSdk.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// The merge math on cases whose answer is computed independently here: the svd product identity on Linear and Conv2d
/// layers (PEFT's double scaling included), negative weights, TIES sign election (total / frequency), magnitude
/// pruning, svd clamping, reduced SVD, rank padding, and inputs left untouched.
/// </summary>
public sealed class MergeMathTests : IClassFixture<MergeFixture>
{
    private readonly MergeFixture _fx;

    public MergeMathTests(MergeFixture fx) => _fx = fx;

    [Theory]
    [InlineData(true, SvdAlgorithm.Dense)]
    [InlineData(false, SvdAlgorithm.Dense)]
    [InlineData(true, SvdAlgorithm.Auto)]
    public void Svd_with_enough_rank_reproduces_the_weighted_delta_on_linear_and_conv_layers(bool fullMatrices, SvdAlgorithm algorithm)
    {
        // a (rank 4, scaling 2) and b (rank 8, scaling 0.5, incl. 3x3 and 1x1-free conv layers): svd_rank 12 keeps everything.
        // PEFT's svd path weights get_delta_weight (already scaled) by weight·scaling again: ΔW = Σ wᵢ·sᵢ·(sᵢ·BᵢAᵢ).
        var tags = new[] { "a", "b" };
        var weights = new[] { 1.0, -0.5 };
        using var result = LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, _fx.UnionOrderAB),
            new LoraMergeOptions { CombinationType = CombinationType.Svd, SvdRank = 12, SvdFullMatrices = fullMatrices, SvdAlgorithm = algorithm });
        Assert.Equal(12, result.Rank);
        Assert.Equal(156, result.Layers.Count);
        int conv = 0;
        foreach (var layer in result.Layers)
        {
            using var scope = NewDisposeScope();
            Tensor expected = zeros(layer.B.shape[0], layer.A.numel() / layer.A.shape[0], ScalarType.Float64);
            for (int i = 0; i < tags.Length; i++)
            {
                if (!_fx.Adapters[tags[i]].Factors.TryGetValue(layer.Name, out var f)) continue;
                var product = TensorAssert.Product(f.A.to_type(ScalarType.Float64), f.B.to_type(ScalarType.Float64));
                expected = expected + product * (weights[i] * f.Scaling * f.Scaling);
            }
            if (layer.A.dim() == 4) conv++;
            TensorAssert.Close(expected, TensorAssert.Product(layer.A, layer.B), 1e-4, layer.Name);
        }
        Assert.Equal(24, conv);
    }

    [Fact]
    public void Low_rank_and_dense_svd_agree_when_truncating()
    {
        var tags = new[] { "a", "b" };
        var layers = _fx.Layers(tags, _fx.UnionOrderAB);
        using var dense = LoraMerger.Merge(_fx.Sources(tags, new[] { 0.8, 1.3 }), layers,
            new LoraMergeOptions { SvdRank = 5, SvdAlgorithm = SvdAlgorithm.Dense });
        using var fast = LoraMerger.Merge(_fx.Sources(tags, new[] { 0.8, 1.3 }), layers,
            new LoraMergeOptions { SvdRank = 5, SvdAlgorithm = SvdAlgorithm.Auto });
        foreach (var (d, f) in dense.Layers.Zip(fast.Layers))
        {
            using var scope = NewDisposeScope();
            TensorAssert.Close(TensorAssert.Product(d.A, d.B), TensorAssert.Product(f.A, f.B), 1e-4, d.Name);
            // Same singular values: the column norms of B = U·S.
            TensorAssert.Close(d.B.reshape(d.B.shape[0], 5).norm(0), f.B.reshape(f.B.shape[0], 5).norm(0), 1e-4, d.Name + " S");
        }
    }

    [Fact]
    public void A_single_adapter_becomes_linear_with_the_sign_on_lora_A()
    {
        var f = _fx.Adapters["a"].Factors.First();
        var sources = new[] { new LoraMergeSource("a", 4, -1.5) };
        using var result = LoraMerger.Merge(sources, new[] { new LoraMergeLayer(f.Key, new[] { f.Value }) },
            new LoraMergeOptions { CombinationType = CombinationType.Ties, Density = 0.1 });
        Assert.Equal(CombinationType.Linear, result.Plan.CombinationType);
        Assert.Equal(CombinationType.Ties, result.Plan.RequestedCombinationType);
        double root = Math.Sqrt(1.5 * f.Value.Scaling);
        using var scope = NewDisposeScope();
        TensorAssert.Close(f.Value.A * -root, result.Layers[0].A, 1e-6, "A");
        TensorAssert.Close(f.Value.B * root, result.Layers[0].B, 1e-6, "B");
        TensorAssert.Close(f.Value.B.matmul(f.Value.A) * (-1.5 * f.Value.Scaling), result.Layers[0].B.matmul(result.Layers[0].A), 1e-5, "B·A");
    }

    private static LoraMergeLayer Layer(float[] a1, float[] a2) => new LoraMergeLayer("l", new[]
    {
        new LoraLayerFactors(tensor(a1, new long[] { 1, a1.Length }), ones(1, 1), 1.0),
        new LoraLayerFactors(tensor(a2, new long[] { 1, a2.Length }), ones(1, 1), 1.0),
    });

    [Fact]
    public void Ties_elects_signs_by_total_or_frequency_and_averages_agreeing_values()
    {
        // density 1: no pruning. Three adapters, weights 1 (sqrt(1) on A).
        float[] x = { 3, -1, 2, -4 }, y = { -1, -1, 1, 1 }, z = { -1, 2, -5, 1 };
        var sources = new[] { new LoraMergeSource("x", 1, 1), new LoraMergeSource("y", 1, 1), new LoraMergeSource("z", 1, 1) };
        var layer = new LoraMergeLayer("l", new[] { x, y, z }.Select(v => new LoraLayerFactors(tensor(v, new long[] { 1, 4 }), ones(1, 1), 1.0)).ToArray());
        using var total = LoraMerger.Merge(sources, new[] { layer }, new LoraMergeOptions { CombinationType = CombinationType.Ties, Density = 1 });
        // totals: 1 → +, 0 → + (>= 0), -2 → -, -2 → -; mean of the agreeing values.
        Assert.Equal(new float[] { 3, 2, -5, -4 }, total.Layers[0].A.data<float>().ToArray());
        using var freq = LoraMerger.Merge(sources, new[] { layer },
            new LoraMergeOptions { CombinationType = CombinationType.Ties, Density = 1, MajoritySignMethod = MajoritySignMethod.Frequency });
        // sign counts: -1 → -, -1 → -, +1 → +, +1 → +.
        Assert.Equal(new float[] { -1, -1, 1.5f, 1 }, freq.Layers[0].A.data<float>().ToArray());
        foreach (var f in layer.Sources) { f!.A.Dispose(); f.B.Dispose(); }
    }

    [Fact]
    public void Magnitude_prune_keeps_the_largest_int_density_times_numel_values()
    {
        var layer = Layer(new float[] { 0.1f, -5, 2, -0.3f, 4 }, new float[] { 0, 0, 0, 0, 0 });
        var sources = new[] { new LoraMergeSource("x", 1, 1), new LoraMergeSource("y", 1, 1) };
        // int(0.5 · 5) = 2 values kept: -5 and 4.
        using var result = LoraMerger.Merge(sources, new[] { layer },
            new LoraMergeOptions { CombinationType = CombinationType.MagnitudePrune, Density = 0.5 });
        Assert.Equal(new float[] { 0, -5, 0, 0, 4 }, result.Layers[0].A.data<float>().ToArray());
        foreach (var f in layer.Sources) { f!.A.Dispose(); f.B.Dispose(); }
    }

    [Fact]
    public void Svd_clamp_bounds_both_factors_at_the_quantile_of_their_values()
    {
        var tags = new[] { "a", "d" };
        var layers = _fx.Layers(tags, _fx.ModuleOrderA.Take(8).ToList());
        using var plain = LoraMerger.Merge(_fx.Sources(tags, new[] { 1.0, 0.5 }), layers, new LoraMergeOptions { SvdRank = 4 });
        using var clamped = LoraMerger.Merge(_fx.Sources(tags, new[] { 1.0, 0.5 }), layers, new LoraMergeOptions { SvdRank = 4, SvdClamp = 0.9 });
        foreach (var (p, c) in plain.Layers.Zip(clamped.Layers))
        {
            // The quantile of all U·S and Vh values with linear interpolation, computed here in double.
            var values = p.B.flatten().data<float>().ToArray().Concat(p.A.flatten().data<float>().ToArray()).Select(v => (double)v).OrderBy(v => v).ToArray();
            double pos = 0.9 * (values.Length - 1);
            int lo = (int)Math.Floor(pos);
            double hi = values[lo] + (values[Math.Min(lo + 1, values.Length - 1)] - values[lo]) * (pos - lo);
            using var scope = NewDisposeScope();
            TensorAssert.Close(p.A.clamp(-hi, hi), c.A, 1e-5, $"{p.Name} A");
            TensorAssert.Close(p.B.clamp(-hi, hi), c.B, 1e-5, $"{p.Name} B");
            Assert.True(c.A.abs().max().item<float>() <= hi + 1e-6);
        }
    }

    [Fact]
    public void Svd_rank_above_the_layer_rank_pads_with_zeros()
    {
        // A 3×2 layer has at most 2 singular values; rank 5 keeps the product and the declared rank.
        using var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = tensor(new float[] { 1, 0, 0, 1, 1, 1 }, new long[] { 3, 2 });
        using var a2 = a * 0.5f;
        var sources = new[] { new LoraMergeSource("x", 2, 1), new LoraMergeSource("y", 2, 1) };
        var layer = new LoraMergeLayer("l", new[] { new LoraLayerFactors(a, b, 1), new LoraLayerFactors(a2, b, 1) });
        using var result = LoraMerger.Merge(sources, new[] { layer }, new LoraMergeOptions { SvdRank = 5 });
        Assert.Equal(new long[] { 5, 2 }, result.Layers[0].A.shape);
        Assert.Equal(new long[] { 3, 5 }, result.Layers[0].B.shape);
        using var scope = NewDisposeScope();
        TensorAssert.Close(b.matmul(a) * 1.5, result.Layers[0].B.matmul(result.Layers[0].A), 1e-5, "B·A");
    }

    [Fact]
    public void Merging_leaves_every_input_bit_identical()
    {
        var tags = new[] { "a", "b" };
        var layers = _fx.Layers(tags, _fx.UnionOrderAB);
        var before = layers.SelectMany(l => l.Sources.Where(f => f != null).SelectMany(f => new[] { f!.A.clone(), f.B.clone() })).ToList();
        foreach (var type in new[] { CombinationType.Cat, CombinationType.Svd, CombinationType.DareTiesSvd, CombinationType.MagnitudePruneSvd })
        {
            using var r = LoraMerger.Merge(_fx.Sources(tags, new[] { 0.7, -0.3 }), layers,
                new LoraMergeOptions { CombinationType = type, Density = 0.4, Seed = 1 });
            Assert.Equal(156, r.Layers.Count);
        }
        var after = layers.SelectMany(l => l.Sources.Where(f => f != null).SelectMany(f => new[] { f!.A, f.B })).ToList();
        foreach (var (x, y) in before.Zip(after)) Assert.True(TensorAssert.Identical(x, y));
        foreach (var t in before) t.Dispose();
    }

    [Fact]
    public void Every_combination_type_runs_on_linear_and_conv_layers()
    {
        // b alone has conv layers; pair it with a scaled copy of itself so the equal-rank types apply.
        var b = _fx.Adapters["b"];
        var modules = b.Factors.Keys.Where(k => b.Factors[k].IsConv).Take(4).Concat(b.Factors.Keys.Where(k => !b.Factors[k].IsConv).Take(4)).ToList();
        var layers = modules.Select(m => new LoraMergeLayer(m, new LoraLayerFactors?[] { b.Factors[m], b.Factors[m] })).ToList();
        var sources = new[] { new LoraMergeSource("b", 8, 1.0), new LoraMergeSource("b2", 8, 0.25) };
        foreach (var type in CombinationTypes.All)
        {
            using var r = LoraMerger.Merge(sources, layers, new LoraMergeOptions { CombinationType = type, Density = 0.6, Seed = 5 });
            int rank = type == CombinationType.Cat ? 16 : 8;
            Assert.Equal(rank, r.Rank);
            foreach (var (layer, m) in r.Layers.Zip(modules))
            {
                var f = b.Factors[m];
                Assert.Equal(new[] { (long)rank }.Concat(f.A.shape.Skip(1)).ToArray(), layer.A.shape);
                Assert.Equal(new[] { f.B.shape[0], rank }.Concat(f.B.shape.Skip(2)).ToArray(), layer.B.shape);
                Assert.False(layer.A.isnan().any().item<bool>() || layer.B.isnan().any().item<bool>(), $"{type} {m}");
            }
        }
    }
}
