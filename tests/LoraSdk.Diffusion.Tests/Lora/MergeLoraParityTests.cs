using System.Linq;
using LoraSdk.Merging;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// PEFT's <c>add_weighted_adapter</c> through the pipeline API (<c>ILoraPipeline.AddWeightedAdapter</c>, seed 0) on the
/// host UNet: lora_a, lora_d, lora_b loaded as a, d, b; the merged adapter as the only active one; UNet output against
/// <c>unet/merge/&lt;name&gt;</c> (≤ 1e-4 relative, max |Δ| / max |golden|). Adapted from the merge engineer's handoff test.
/// </summary>
public sealed class MergeLoraParityTests
{
    private readonly ITestOutputHelper _output;

    public MergeLoraParityTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("ad_linear", "a", "d", "linear", null, null)]
    [InlineData("ad_cat", "a", "d", "cat", null, null)]
    [InlineData("ad_svd", "a", "d", "svd", null, 4)]
    [InlineData("ad_ties", "a", "d", "ties", 0.5, null)]
    [InlineData("ad_ties_svd", "a", "d", "ties_svd", 0.5, 4)]
    [InlineData("ad_magnitude_prune", "a", "d", "magnitude_prune", 0.5, null)]
    [InlineData("ad_dare_linear", "a", "d", "dare_linear", 0.5, null)]
    [InlineData("ad_dare_ties", "a", "d", "dare_ties", 0.5, null)]
    [InlineData("ab_cat", "a", "b", "cat", null, null)]
    public void MergedAdapterUnetOutputMatchesPeft(string name, string first, string second, string type, double? density, int? svdRank)
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Load("lora_a", "a");
        p.Load("lora_d", "d");
        p.Load("lora_b", "b");
        p.Manager.AddWeightedAdapter(new[] { first, second }, new[] { 1.0, 0.5 }, name, type, svdRank: svdRank, density: density, seed: 0);
        Assert.Equal(new[] { "b" }, p.Manager.GetActiveAdapters()); // like PEFT, merging activates nothing
        p.Manager.SetAdapters(new[] { name });
        _output.WriteLine($"unet/merge/{name}: {p.AssertUnet($"unet/merge/{name}")}");
    }

    /// <summary>
    /// After <c>enable_lora_hotswap(8)</c> the stored factors are zero-padded to rank 8; merging must use the configured
    /// ranks (4 + 4 for cat), giving PEFT's unpadded result.
    /// </summary>
    [Theory]
    [InlineData("ad_cat", "cat")]
    [InlineData("ad_linear", "linear")]
    public void MergingHotswapPaddedAdaptersUsesTheirConfiguredRanks(string name, string type)
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Manager.EnableLoraHotswap(8);
        p.Load("lora_a", "a");
        p.Load("lora_d", "d");
        p.Manager.AddWeightedAdapter(new[] { "a", "d" }, new[] { 1.0, 0.5 }, name, type, seed: 0);
        p.Manager.SetAdapters(new[] { name });
        _output.WriteLine($"unet/merge/{name} (hotswap-padded sources): {p.AssertUnet($"unet/merge/{name}")}");
    }

    [Fact]
    public void DifferentRanksWithLinearRaisePeftsError()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Load("lora_a", "a");
        p.Load("lora_b", "b");
        var before = p.Checksums();
        var e = Assert.Throws<LoraMergeException>(() => p.Manager.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 0.5 }, "ab_linear_expect_error", "linear"));
        Assert.Equal("All adapters must have the same r value when using combination_type linear, ties, dare_ties or dare_linear.", e.Message);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        Assert.Equal(new[] { "a", "b" }, p.UnetComponent.ListAdapters());
    }
}
