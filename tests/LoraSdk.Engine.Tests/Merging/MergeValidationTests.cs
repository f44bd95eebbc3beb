using LoraSdk.Compatibility;
using LoraSdk.Core;
using System.Linq;
using LoraSdk.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>PEFT's constraints and messages, and our typed errors for requests PEFT would crash on.</summary>
public sealed class MergeValidationTests : IClassFixture<MergeFixture>
{
    private readonly MergeFixture _fx;

    public MergeValidationTests(MergeFixture fx) => _fx = fx;

    private LoraMergeException Refused(string[] tags, LoraMergeOptions options, double[]? weights = null)
    {
        weights ??= tags.Select(_ => 1.0).ToArray();
        return Assert.Throws<LoraMergeException>(() =>
            LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, _fx.UnionOrderAB.Where(m => tags.Any(t => _fx.Adapters[t].Factors.ContainsKey(m))).ToList()), options));
    }

    [Theory]
    [InlineData(CombinationType.Linear)]
    [InlineData(CombinationType.Ties)]
    [InlineData(CombinationType.DareLinear)]
    [InlineData(CombinationType.DareTies)]
    [InlineData(CombinationType.MagnitudePrune)]
    public void Equal_rank_types_refuse_different_ranks_with_peft_message(CombinationType type)
    {
        var e = Refused(new[] { "a", "b" }, new LoraMergeOptions { CombinationType = type, Density = 0.5 });
        Assert.Equal(LoraMerger.SameRankMessage, e.Message);
        Assert.Equal("All adapters must have the same r value when using combination_type linear, ties, dare_ties or dare_linear.", e.Message);
    }

    [Fact]
    public void Rank_rules_match_peft_for_cat_and_svd()
    {
        var ab = _fx.Sources(new[] { "a", "b" }, new[] { 1.0, 1.0 });
        Assert.Equal(12, LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.Cat }).Rank);
        Assert.Equal(8, LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.Svd }).Rank);
        Assert.Equal(8, LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.TiesSvd, SvdRank = 0, Density = 1 }).Rank);
        Assert.Equal(3, LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.DareTiesSvd, SvdRank = 3, Density = 0.2 }).Rank);
        var plan = LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.Cat });
        Assert.Equal(plan.Rank, plan.Alpha);
        Assert.Equal(1.0, plan.Scaling);
        var rs = LoraMerger.Plan(new[] { new LoraMergeSource("x", 4, 1, useRsLora: true), new LoraMergeSource("y", 4, 1) },
            new LoraMergeOptions { CombinationType = CombinationType.Linear });
        Assert.True(rs.UseRsLora);
        Assert.Equal(2.0, rs.Scaling); // alpha 4 / sqrt(4)
        var e = Assert.Throws<LoraMergeException>(() => LoraMerger.Plan(ab, new LoraMergeOptions { CombinationType = CombinationType.Svd, SvdRank = -2 }));
        Assert.Equal("`r` should be a positive integer value but the value passed is -2", e.Message);
    }

    [Fact]
    public void Combination_type_and_sign_method_strings_are_peft_strings()
    {
        Assert.Equal(11, CombinationTypes.All.Length);
        foreach (var t in CombinationTypes.All) Assert.Equal(t, PeftNames.ParseCombinationType(CombinationTypes.PeftName(t)));
        Assert.Equal("dare_ties_svd", CombinationTypes.PeftName(CombinationType.DareTiesSvd));
        var e = Assert.Throws<LoraMergeException>(() => PeftNames.ParseCombinationType("Linear"));
        Assert.Equal("Invalid combination_type: Linear", e.Message);
        Assert.Equal(LoraMergeErrorKind.InvalidCombinationType, e.Kind);
        Assert.Equal(MajoritySignMethod.Frequency, PeftNames.ParseMajoritySignMethod("frequency"));
        Assert.Equal("Unimplemented mask method \"majority\"", Assert.Throws<LoraMergeException>(() => PeftNames.ParseMajoritySignMethod("majority")).Message);
    }

    [Theory]
    [InlineData(CombinationType.Ties, null, "combination_type ties needs `density` (LoraMergeOptions.Density: the fraction of values to keep, in [0, 1]), but none was given.")]
    [InlineData(CombinationType.DareLinear, null, "combination_type dare_linear needs `density` (LoraMergeOptions.Density: the fraction of values to keep, in (0, 1]), but none was given.")]
    [InlineData(CombinationType.MagnitudePruneSvd, -0.5, "Density should be >= 0, got -0.5")]
    [InlineData(CombinationType.DareTies, -1.0, "Density should be >= 0, got -1.0")]
    [InlineData(CombinationType.DareLinear, 0.0, "Density 0.0 is not allowed for combination_type dare_linear: DARE rescales the kept values by 1/density.")]
    [InlineData(CombinationType.DareTiesSvd, double.NaN, "Density should be >= 0, got nan")]
    public void Bad_density_is_refused(CombinationType type, double? density, string message)
    {
        var e = Refused(new[] { "a", "d" }, new LoraMergeOptions { CombinationType = type, Density = density });
        Assert.Equal(LoraMergeErrorKind.InvalidDensity, e.Kind);
        Assert.Equal("density", e.ParameterName);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Density_is_not_needed_by_linear_cat_svd_and_zero_is_allowed_for_magnitude()
    {
        foreach (var type in new[] { CombinationType.Linear, CombinationType.Cat, CombinationType.Svd })
        {
            LoraMerger.Plan(_fx.Sources(new[] { "a", "d" }, new[] { 1.0, 1.0 }), new LoraMergeOptions { CombinationType = type });
        }
        var tags = new[] { "a", "d" };
        using var r = LoraMerger.Merge(_fx.Sources(tags, new[] { 1.0, 1.0 }), _fx.Layers(tags, _fx.ModuleOrderA.Take(2).ToList()),
            new LoraMergeOptions { CombinationType = CombinationType.MagnitudePrune, Density = 0 });
        Assert.Equal(0f, r.Layers[0].A.abs().max().item<float>());
    }

    [Fact]
    public void Bad_svd_clamp_weights_and_adapter_lists_are_refused()
    {
        Assert.Equal("quantile() q must be in the range [0, 1] but got 1.5 (svd_clamp).",
            Refused(new[] { "a", "d" }, new LoraMergeOptions { SvdClamp = 1.5 }).Message);
        Assert.Equal(LoraMergeErrorKind.InvalidWeight,
            Refused(new[] { "a", "d" }, new LoraMergeOptions { CombinationType = CombinationType.Linear }, new[] { 1.0, double.NaN }).Kind);
        Assert.Equal(LoraMergeErrorKind.InvalidAdapters,
            Assert.Throws<LoraMergeException>(() => LoraMerger.Plan(new LoraMergeSource[0], new LoraMergeOptions())).Kind);
        Assert.Equal("Adapter a is listed 2 times.",
            Assert.Throws<LoraMergeException>(() => LoraMerger.Plan(_fx.Sources(new[] { "a", "a" }, new[] { 1.0, 1.0 }), new LoraMergeOptions())).Message);
    }

    [Fact]
    public void Layer_problems_name_the_layer()
    {
        var a = _fx.Adapters["a"].Factors;
        var b = _fx.Adapters["b"].Factors;
        var sources = _fx.Sources(new[] { "a", "b" }, new[] { 1.0, 1.0 });
        var options = new LoraMergeOptions { CombinationType = CombinationType.Cat };
        const string q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
        const string conv = "down_blocks.0.resnets.0.conv1";

        var none = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(sources, new[] { new LoraMergeLayer("x.to_q", new LoraLayerFactors?[] { null, null }) }, options));
        Assert.Equal("x.to_q", none.LayerName);
        Assert.StartsWith("x.to_q: No matching LoRAs found", none.Message);

        var mismatch = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(sources, new[] { new LoraMergeLayer(q, new[] { a[q], b[conv] }) }, options));
        Assert.Equal(q, mismatch.LayerName);
        Assert.Contains("adapter b", mismatch.Message);

        var count = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(sources, new[] { new LoraMergeLayer(q, new[] { a[q] }) }, options));
        Assert.Equal(LoraMergeErrorKind.InvalidLayer, count.Kind);

        using var badB = zeros(64, 3);
        var rank = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(sources,
            new[] { new LoraMergeLayer(q, new[] { new LoraLayerFactors(a[q].A, badB, 1), null }) }, options));
        Assert.Contains("disagree on the rank", rank.Message);

        // Equal config ranks but different per-layer ranks (a rank_pattern) cannot be stacked by the linear family.
        using var r8A = zeros(8, 64);
        using var r8B = zeros(64, 8);
        var perLayer = Assert.Throws<LoraMergeException>(() => LoraMerger.Merge(_fx.Sources(new[] { "a", "d" }, new[] { 1.0, 1.0 }),
            new[] { new LoraMergeLayer(q, new[] { a[q], new LoraLayerFactors(r8A, r8B, 1) }) }, new LoraMergeOptions { CombinationType = CombinationType.Linear }));
        Assert.Equal(LoraMergeErrorKind.RankMismatch, perLayer.Kind);
        Assert.Equal(q, perLayer.LayerName);
    }
}
