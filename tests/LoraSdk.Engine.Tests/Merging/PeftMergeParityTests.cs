using LoraSdk.Core;
using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Merging;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// Module-level parity with PEFT's <c>add_weighted_adapter</c> (goldens.json → merges, tensors merge/&lt;name&gt;/*):
/// merged lora_A / lora_B per module for the deterministic types (bit for bit), B·A per module for the svd types (SVD
/// factors are defined up to sign; tolerance max|ours − PEFT| / max|PEFT| ≤ 1e-4 per tensor), bit-level reproduction
/// of the DARE masks from the seed.
/// </summary>
public sealed class PeftMergeParityTests : IClassFixture<MergeFixture>
{
    private const double Tolerance = 1e-4;
    private readonly MergeFixture _fx;
    private readonly ITestOutputHelper _out;

    public PeftMergeParityTests(MergeFixture fx, ITestOutputHelper output)
    {
        _fx = fx;
        _out = output;
    }

    /// <summary>The golden cases (README table "PEFT merges"): adapters, weights, kwargs.</summary>
    public static IEnumerable<object[]> FactorCases() => new[]
    {
        new object[] { "ad_linear" }, new object[] { "ad_cat" }, new object[] { "ad_ties" },
        new object[] { "ad_magnitude_prune" }, new object[] { "ad_dare_linear" }, new object[] { "ad_dare_ties" },
    };

    public static IEnumerable<object[]> SvdCases() => new[]
    {
        new object[] { "ad_svd", SvdAlgorithm.Auto }, new object[] { "ad_svd", SvdAlgorithm.Dense },
        new object[] { "ad_ties_svd", SvdAlgorithm.Auto }, new object[] { "ad_ties_svd", SvdAlgorithm.Dense },
    };

    internal static (string[] Tags, double[] Weights, LoraMergeOptions Options) Case(string name, MergedAdapterInitialization init) => name switch
    {
        "ad_linear" => (new[] { "a", "d" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Linear }),
        "ad_cat" => (new[] { "a", "d" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Cat }),
        "ad_svd" => (new[] { "a", "d" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Svd, SvdRank = 4 }),
        "ad_ties" => (new[] { "a", "d" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Ties, Density = 0.5 }),
        "ad_ties_svd" => (new[] { "a", "d" }, new[] { 1.0, 0.5 },
            new LoraMergeOptions { CombinationType = CombinationType.TiesSvd, Density = 0.5, SvdRank = 4 }),
        "ad_magnitude_prune" => (new[] { "a", "d" }, new[] { 1.0, 0.5 },
            new LoraMergeOptions { CombinationType = CombinationType.MagnitudePrune, Density = 0.5 }),
        "ad_dare_linear" => (new[] { "a", "d" }, new[] { 1.0, 0.5 },
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 0.5, Seed = 0, Initialization = init }),
        "ad_dare_ties" => (new[] { "a", "d" }, new[] { 1.0, 0.5 },
            new LoraMergeOptions { CombinationType = CombinationType.DareTies, Density = 0.5, Seed = 0, Initialization = init }),
        "ab_cat" => (new[] { "a", "b" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Cat }),
        "ab_linear_expect_error" => (new[] { "a", "b" }, new[] { 1.0, 0.5 }, new LoraMergeOptions { CombinationType = CombinationType.Linear }),
        _ => throw new ArgumentException(name),
    };

    private LoraMergeResult Run(string name, IReadOnlyList<string> modules, SvdAlgorithm algorithm = SvdAlgorithm.Auto)
    {
        var (tags, weights, options) = Case(name, _fx.Adapters["a"].Initialization);
        options = new LoraMergeOptions
        {
            CombinationType = options.CombinationType, SvdRank = options.SvdRank, Density = options.Density, Seed = options.Seed,
            Initialization = options.Initialization, SvdAlgorithm = algorithm,
        };
        return LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, modules), options);
    }

    private void AssertConfig(string name, LoraMergeResult result)
    {
        var config = _fx.Merges[name]!["merged_config"]!;
        Assert.Equal(config["r"]!.AsInt64(), result.Rank);
        Assert.Equal(config["lora_alpha"]!.AsDouble(), result.Alpha);
        Assert.Equal(1.0, result.Plan.Scaling);
    }

    [Theory]
    [MemberData(nameof(FactorCases))]
    public void Merged_factors_match_peft_per_module(string name)
    {
        using var result = Run(name, _fx.ModuleOrderA);
        AssertConfig(name, result);
        Assert.Equal((int)_fx.Merges[name]!["num_modules"]!.AsInt64(), result.Layers.Count);
        // The factor merges are elementwise arithmetic, sorting and seeded masks — nothing a CPU's kernels round
        // differently — so they must equal PEFT's bit for bit on any CPU.
        foreach (var layer in result.Layers)
        {
            Assert.True(TensorAssert.Identical(_fx.Golden($"merge/{name}/{layer.Name}.lora_A"), layer.A),
                $"{name} {layer.Name}.lora_A differs from PEFT's: relative {TensorAssert.Close(_fx.Golden($"merge/{name}/{layer.Name}.lora_A"), layer.A, double.MaxValue, name):E3}");
            Assert.True(TensorAssert.Identical(_fx.Golden($"merge/{name}/{layer.Name}.lora_B"), layer.B),
                $"{name} {layer.Name}.lora_B differs from PEFT's: relative {TensorAssert.Close(_fx.Golden($"merge/{name}/{layer.Name}.lora_B"), layer.B, double.MaxValue, name):E3}");
        }
        _out.WriteLine($"{name}: {result.Layers.Count} modules, bit for bit");
    }

    [Theory]
    [MemberData(nameof(SvdCases))]
    public void Svd_merges_match_peft_products_per_module(string name, SvdAlgorithm algorithm)
    {
        using var result = Run(name, _fx.ModuleOrderA, algorithm);
        AssertConfig(name, result);
        Assert.Equal(96, result.Layers.Count);
        double worst = 0;
        foreach (var layer in result.Layers)
        {
            using var scope = NewDisposeScope();
            var expected = TensorAssert.Product(_fx.Golden($"merge/{name}/{layer.Name}.lora_A"), _fx.Golden($"merge/{name}/{layer.Name}.lora_B"));
            Assert.Equal(_fx.Golden($"merge/{name}/{layer.Name}.lora_A").shape, layer.A.shape);
            Assert.Equal(_fx.Golden($"merge/{name}/{layer.Name}.lora_B").shape, layer.B.shape);
            worst = Math.Max(worst, TensorAssert.Close(expected, TensorAssert.Product(layer.A, layer.B), Tolerance, $"{name} {layer.Name} B·A"));
        }
        _out.WriteLine($"{name} ({algorithm}): worst relative error of B·A {worst:E3}");
    }

    [Fact]
    public void Cat_of_different_ranks_covers_the_union_and_matches_peft()
    {
        using var result = Run("ab_cat", _fx.UnionOrderAB);
        AssertConfig("ab_cat", result);
        Assert.Equal((int)_fx.Merges["ab_cat"]!["num_modules"]!.AsInt64(), result.Layers.Count);
        var byName = result.Layers.ToDictionary(l => l.Name);
        double worst = 0;
        var stored = _fx.Merges["ab_cat"]!["stored_modules"]!.Items.Select(i => i.AsString()).ToList();
        Assert.Equal(8, stored.Count);
        foreach (var module in stored)
        {
            var layer = byName[module];
            worst = Math.Max(worst, TensorAssert.Close(_fx.Golden($"merge/ab_cat/{module}.lora_A"), layer.A, Tolerance, $"ab_cat {module}.lora_A"));
            worst = Math.Max(worst, TensorAssert.Close(_fx.Golden($"merge/ab_cat/{module}.lora_B"), layer.B, Tolerance, $"ab_cat {module}.lora_B"));
        }
        Assert.Contains(stored, m => byName[m].A.dim() == 4);
        _out.WriteLine($"ab_cat: {result.Layers.Count} modules, 8 stored, worst relative error {worst:E3}");
    }

    [Fact]
    public void Different_ranks_with_linear_raise_peft_error()
    {
        var (tags, weights, options) = Case("ab_linear_expect_error", MergedAdapterInitialization.None);
        string expected = _fx.Merges["ab_linear_expect_error"]!["raised"]!["message"]!.AsString();
        var layers = _fx.Layers(tags, _fx.UnionOrderAB);
        var e = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(_fx.Sources(tags, weights), layers, options));
        Assert.Equal(expected, e.Message);
        Assert.Equal(LoraMergeErrorKind.RankMismatch, e.Kind);
    }
}
