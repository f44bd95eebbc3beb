using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace LoraSdk.Core.Tests;

/// <summary>
/// The hotswap rules (<see cref="HotswapCompatibility"/>), one rule at a time and together: config keys, variants,
/// target layers, ranks (stored and padded).
/// </summary>
public class HotswapCompatibilityTests
{
    private const string Q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
    private const string K = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k";
    private const string V = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v";

    private static HotswapModuleFacts M(string layer, int rank, string? variant = LoraVariants.Lora) => new HotswapModuleFacts(layer, rank, variant);

    private static HotswapAdapterFacts A(string name, HotswapConfigFacts? config, params HotswapModuleFacts[] modules) =>
        new HotswapAdapterFacts(name, modules, config);

    private static HotswapConfigFacts Config(bool rsLora = false, double dropout = 0.0, bool dora = false, params (string Key, double Alpha)[] alphaPattern) =>
        new HotswapConfigFacts(rsLora, dropout, alphaPattern.Select(p => new KeyValuePair<string, double>(p.Key, p.Alpha)).ToList(), dora);

    [Fact]
    public void EqualConfigsAgree()
    {
        Assert.Null(HotswapCompatibility.CompareConfigs(Config(true, 0.1, false, ("a", 8), ("b", 4.5)), Config(true, 0.1, false, ("a", 8), ("b", 4.5))));
    }

    [Fact]
    public void UseRsLoraMismatchIsReportedWithPythonValues()
    {
        var f = HotswapCompatibility.CompareConfigs(Config(rsLora: false), Config(rsLora: true));
        Assert.NotNull(f);
        Assert.Equal(HotswapFindingKind.IncompatibleConfig, f!.Kind);
        Assert.Equal("use_rslora", f.ConfigKey);
        Assert.Equal("False", f.LoadedValue);
        Assert.Equal("True", f.IncomingValue);
    }

    [Fact]
    public void LoraDropoutMismatchIsReportedAsPythonFloats()
    {
        var f = HotswapCompatibility.CompareConfigs(Config(dropout: 0.0), Config(dropout: 0.1))!;
        Assert.Equal("lora_dropout", f.ConfigKey);
        Assert.Equal("0.0", f.LoadedValue);
        Assert.Equal("0.1", f.IncomingValue);
    }

    [Fact]
    public void AlphaPatternComparesAsADictionaryAndPrintsInDeclaredOrder()
    {
        Assert.Null(HotswapCompatibility.CompareConfigs(Config(false, 0, false, ("a", 8), ("b", 4)), Config(false, 0, false, ("b", 4), ("a", 8))));
        var f = HotswapCompatibility.CompareConfigs(Config(false, 0, false, ("b", 4), ("a", 8)), Config(false, 0, false, ("a", 2.5)))!;
        Assert.Equal("alpha_pattern", f.ConfigKey);
        Assert.Equal("{'b': 4, 'a': 8}", f.LoadedValue);
        Assert.Equal("{'a': 2.5}", f.IncomingValue);
    }

    [Fact]
    public void UseDoraMismatchIsReported()
    {
        var f = HotswapCompatibility.CompareConfigs(Config(dora: true), Config(dora: false))!;
        Assert.Equal("use_dora", f.ConfigKey);
        Assert.Equal("True", f.LoadedValue);
        Assert.Equal("False", f.IncomingValue);
    }

    [Fact]
    public void TheFirstDifferingKeyInPeftsOrderIsReported()
    {
        // use_rslora, lora_dropout, alpha_pattern, use_dora: PEFT raises on the first.
        Assert.Equal(new[] { "use_rslora", "lora_dropout", "alpha_pattern", "use_dora" }, HotswapCompatibility.ConfigKeys);
        var f = HotswapCompatibility.CompareConfigs(Config(false, 0.0, false, ("a", 1)), Config(false, 0.5, true, ("a", 2)))!;
        Assert.Equal("lora_dropout", f.ConfigKey);
    }

    [Fact]
    public void UnknownKeysAreNotCompared()
    {
        var rsOnly = new HotswapConfigFacts(true, null, null, null);
        Assert.Null(HotswapCompatibility.CompareConfigs(rsOnly, Config(rsLora: true, dropout: 0.3, dora: true, ("x", 3))));
        Assert.Null(HotswapCompatibility.CompareConfigs(HotswapConfigFacts.Unknown, Config(rsLora: true)));
        Assert.Equal("use_rslora", HotswapCompatibility.CompareConfigs(rsOnly, Config(rsLora: false))!.ConfigKey);
    }

    [Fact]
    public void ConfigFactsReadAnAdapterConfig()
    {
        var config = LoraAdapterConfig.Create(4, 8, new[] { "to_q" }, useRsLora: true,
            alphaPattern: new[] { new KeyValuePair<string, double>("to_q", 2) });
        var facts = HotswapConfigFacts.Of(config);
        Assert.True(facts.UseRsLora);
        Assert.False(facts.UseDora);
        Assert.Equal(0.0, facts.LoraDropout);
        Assert.Equal(new[] { new KeyValuePair<string, double>("to_q", 2) }, facts.AlphaPattern);
    }

    [Fact]
    public void PlainLoraOnBothSidesHasNoVariantFinding()
    {
        Assert.Null(HotswapCompatibility.CheckVariants(A("old", null, M(Q, 4)), A("new", null, M(Q, 2))));
    }

    [Fact]
    public void AnIncomingVariantNamesItsFirstModule()
    {
        var f = HotswapCompatibility.CheckVariants(A("old", null, M(Q, 4), M(K, 4)),
            A("new", null, M(Q, 4), M(K, 4, LoraVariants.LoKr), M(V, 4, LoraVariants.LoHa)))!;
        Assert.Equal(HotswapFindingKind.NotPlainLora, f.Kind);
        Assert.Null(f.LoadedVariant);
        Assert.Equal(new[] { LoraVariants.LoHa, LoraVariants.LoKr }, f.IncomingVariants);
        Assert.Equal(K, f.Module!.Layer);
    }

    [Fact]
    public void ALoadedVariantIsReportedToo()
    {
        var f = HotswapCompatibility.CheckVariants(A("old", null, M(Q, 4, LoraVariants.PeftDora)), A("new", null, M(Q, 4)))!;
        Assert.Equal(LoraVariants.PeftDora, f.LoadedVariant);
        Assert.Empty(f.IncomingVariants);
        Assert.Null(f.Module);
    }

    [Fact]
    public void VariantsKnownOnlyPerAdapterStillCount()
    {
        // The generator knows a component's variants, not each module's.
        var incoming = new HotswapAdapterFacts("new", new[] { M(Q, 4, null), M(K, 4, null) }, null, new[] { LoraVariants.Lora, LoraVariants.LoHa });
        var f = HotswapCompatibility.CheckVariants(A("old", null, M(Q, 4), M(K, 4)), incoming)!;
        Assert.Equal(new[] { LoraVariants.LoHa }, f.IncomingVariants);
        Assert.Null(f.Module);
        Assert.Equal(new[] { LoraVariants.LoHa }, HotswapCompatibility.NotPlainVariants(incoming));
    }

    [Fact]
    public void LayersOutsideTheSlotAreReportedInTheNewAdaptersOrder()
    {
        var slot = A("old", null, M(Q, 4), M(K, 4));
        Assert.Null(HotswapCompatibility.CheckLayers(slot, A("fewer", null, M(K, 4))));
        var f = HotswapCompatibility.CheckLayers(slot, A("wider", null, M(V, 4), M(Q, 4), M("mid_block.attentions.0.proj_in", 4)))!;
        Assert.Equal(HotswapFindingKind.LayersOutsideSlot, f.Kind);
        Assert.Equal(new[] { V, "mid_block.attentions.0.proj_in" }, f.Modules.Select(m => m.Layer));
    }

    [Fact]
    public void ARankAboveTheSlotsIsRefusedAndSmallerOrEqualRanksFit()
    {
        Assert.Null(HotswapCompatibility.CheckRank(M(Q, 4), 4));
        Assert.Null(HotswapCompatibility.CheckRank(M(Q, 2), 4));
        var f = HotswapCompatibility.CheckRank(M(Q, 8), 4)!;
        Assert.Equal(HotswapFindingKind.RankAboveSlot, f.Kind);
        Assert.Equal(8, f.Module!.Rank);
        Assert.Equal(4, f.SlotRank);
    }

    [Fact]
    public void WithoutATargetRankEachLayerKeepsItsStoredRank()
    {
        var slot = A("old", null, M(Q, 4), M(K, 16));
        var findings = HotswapCompatibility.Check(slot, A("new", null, M(Q, 8), M(K, 8)));
        var rank = Assert.Single(findings);
        Assert.Equal(Q, rank.Module!.Layer);
        Assert.Equal(4, rank.SlotRank);
    }

    [Fact]
    public void WithATargetRankEveryNewModuleMustFitIt()
    {
        var slot = A("old", null, M(Q, 4), M(K, 4));
        Assert.Empty(HotswapCompatibility.Check(slot, A("new", null, M(Q, 16), M(K, 2)), targetRank: 16));
        var findings = HotswapCompatibility.Check(slot, A("big", null, M(Q, 32), M(K, 8)), targetRank: 16);
        Assert.Equal(32, Assert.Single(findings).Module!.Rank);
        Assert.Equal(new[] { 32 }, HotswapCompatibility.CheckPaddable(A("first", null, M(Q, 32), M(K, 8)), 16).Select(f => f.Module!.Rank));
    }

    [Fact]
    public void CheckReportsEveryRuleInTheEnginesOrder()
    {
        var slot = A("old", Config(rsLora: false), M(Q, 4), M(K, 4));
        var incoming = A("new", Config(rsLora: true), M(Q, 8, LoraVariants.LoHa), M(V, 4));
        var kinds = HotswapCompatibility.Check(slot, incoming).Select(f => f.Kind);
        Assert.Equal(new[] { HotswapFindingKind.IncompatibleConfig, HotswapFindingKind.NotPlainLora, HotswapFindingKind.LayersOutsideSlot, HotswapFindingKind.RankAboveSlot },
            kinds);
        Assert.Empty(HotswapCompatibility.Check(slot, A("same", Config(rsLora: false), M(Q, 4))));
    }

    [Fact]
    public void AnAdaptersRankIsItsLargestModuleRank()
    {
        Assert.Equal(16, A("a", null, M(Q, 4), M(K, 16), M(V, 8)).Rank);
        Assert.Equal(0, A("empty", null).Rank);
    }
}
