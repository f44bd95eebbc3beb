using LoraSdk.Core;
using System;
using System.Linq;
using LoraSdk.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// DARE randomness: the seed reproduces PEFT's masks bit-exactly (PEFT ran <c>torch.manual_seed(0)</c> before
/// <c>add_weighted_adapter</c>), and that depends on replaying the merged adapter's initialisation draws; the same
/// seed always gives the same merge; plus statistical properties of the pruning itself.
/// </summary>
public sealed class DareRandomnessTests : IClassFixture<MergeFixture>
{
    private readonly MergeFixture _fx;

    public DareRandomnessTests(MergeFixture fx) => _fx = fx;

    private LoraMergeResult Merge(string name, long? seed, MergedAdapterInitialization init)
    {
        var (tags, weights, options) = PeftMergeParityTests.Case(name, init);
        options = new LoraMergeOptions
        {
            CombinationType = options.CombinationType, Density = options.Density, Seed = seed, Initialization = init,
        };
        return LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, _fx.ModuleOrderA), options);
    }

    private double MaxAbsDiffToGolden(string name, LoraMergeResult result)
    {
        double worst = 0;
        foreach (var layer in result.Layers)
        {
            using var scope = NewDisposeScope();
            worst = Math.Max(worst, (layer.A - _fx.Golden($"merge/{name}/{layer.Name}.lora_A")).abs().max().item<float>());
            worst = Math.Max(worst, (layer.B - _fx.Golden($"merge/{name}/{layer.Name}.lora_B")).abs().max().item<float>());
        }
        return worst;
    }

    [Theory]
    [InlineData("ad_dare_linear")]
    [InlineData("ad_dare_ties")]
    public void Seed_zero_reproduces_peft_bit_exactly(string name)
    {
        Assert.Equal(MergedAdapterInitialization.None, _fx.Adapters["a"].Initialization); // lora_a: init_lora_weights=False
        using var result = Merge(name, 0, MergedAdapterInitialization.None);
        Assert.Equal(0L, result.Seed);
        Assert.Equal(0.0, MaxAbsDiffToGolden(name, result));
    }

    [Theory]
    [InlineData("ad_dare_linear")]
    [InlineData("ad_dare_ties")]
    public void Another_seed_or_another_init_replay_does_not_reproduce_peft(string name)
    {
        using (var other = Merge(name, 1, MergedAdapterInitialization.None)) Assert.True(MaxAbsDiffToGolden(name, other) > 1e-3);
        using (var kaiming = Merge(name, 0, MergedAdapterInitialization.KaimingUniform)) Assert.True(MaxAbsDiffToGolden(name, kaiming) > 1e-3);
    }

    [Fact]
    public void Same_seed_gives_the_same_merge_and_a_missing_seed_is_reported()
    {
        using var first = Merge("ad_dare_ties", 12345, MergedAdapterInitialization.KaimingUniform);
        using var second = Merge("ad_dare_ties", 12345, MergedAdapterInitialization.KaimingUniform);
        foreach (var (x, y) in first.Layers.Zip(second.Layers))
        {
            Assert.True(TensorAssert.Identical(x.A, y.A) && TensorAssert.Identical(x.B, y.B), x.Name);
        }
        using var unseeded = Merge("ad_dare_ties", null, MergedAdapterInitialization.KaimingUniform);
        Assert.NotNull(unseeded.Seed);
        using var replay = Merge("ad_dare_ties", unseeded.Seed, MergedAdapterInitialization.KaimingUniform);
        foreach (var (x, y) in unseeded.Layers.Zip(replay.Layers))
        {
            Assert.True(TensorAssert.Identical(x.A, y.A) && TensorAssert.Identical(x.B, y.B), x.Name);
        }
    }

    [Fact]
    public void Dare_linear_keeps_about_density_and_rescales_by_its_inverse()
    {
        // One adapter would switch to linear (PEFT); two sources where the second has weight 0 isolate the first's pruning.
        const double density = 0.3;
        using var a = arange(1, 100_001, ScalarType.Float32).reshape(100, 1000);
        using var b = ones(10, 100);
        using var zeroA = zeros(100, 1000);
        var sources = new[] { new LoraMergeSource("x", 100, 1.0), new LoraMergeSource("zero", 100, 0.0) };
        var layers = new[]
        {
            new LoraMergeLayer("layer", new[] { new LoraLayerFactors(a, b, 1.0), new LoraLayerFactors(zeroA, b, 1.0) }),
        };
        using var result = LoraMerger.Merge(sources, layers,
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = density, Seed = 7 });
        var merged = result.Layers[0].A;
        using var kept = merged.ne(0);
        double fraction = kept.to_type(ScalarType.Float64).mean().item<double>();
        // 100k Bernoulli(0.3) draws: standard deviation of the fraction ≈ 0.00145; allow 5 sigma.
        Assert.InRange(fraction, density - 0.0073, density + 0.0073);
        // Every kept value is the original divided by density (weights are sqrt(1·1) = 1).
        using var expected = (a / density).masked_select(kept);
        using var actual = merged.masked_select(kept);
        Assert.True(actual.allclose(expected, rtol: 1e-6, atol: 0), "kept values are not rescaled by 1/density");
        // B of source "x" (all ones) with the weight-0 source: pruned and rescaled values are 0 or 1/density.
        using var bValues = result.Layers[0].B.unique().Item1;
        Assert.All(bValues.data<float>().ToArray(), v => Assert.True(v == 0f || Math.Abs(v - 1 / density) < 1e-5, $"B value {v}"));
    }

    [Fact]
    public void Density_of_one_or_more_prunes_nothing_and_equals_linear()
    {
        var tags = new[] { "a", "d" };
        var weights = new[] { 1.0, 0.5 };
        using var linear = LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, _fx.ModuleOrderA),
            new LoraMergeOptions { CombinationType = CombinationType.Linear });
        using var dare = LoraMerger.Merge(_fx.Sources(tags, weights), _fx.Layers(tags, _fx.ModuleOrderA),
            new LoraMergeOptions { CombinationType = CombinationType.DareLinear, Density = 1.0, Seed = 3 });
        foreach (var (x, y) in linear.Layers.Zip(dare.Layers))
        {
            Assert.True(TensorAssert.Identical(x.A, y.A) && TensorAssert.Identical(x.B, y.B), x.Name);
        }
    }
}
