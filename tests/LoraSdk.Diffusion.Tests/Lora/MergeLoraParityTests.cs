using LoraSdk.Layers;
using System.Linq;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Compatibility;
using LoraSdk.Core;
using LoraSdk.Merging;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// PEFT's <c>add_weighted_adapter</c> through the pipeline API (<c>ILoraPipeline.AddWeightedAdapter</c>, seed 0) on the
/// host UNet: lora_a, lora_d, lora_b loaded as a, d, b; the merged adapter as the only active one; UNet output against
/// <c>unet/merge/&lt;name&gt;</c>.
/// </summary>
/// <remarks>
/// Tolerance: max |Δ| / max |golden| ≤ max(1e-4, <see cref="SensitivityFactor"/> · S), where S is the same relative
/// measure between the UNet output for the golden input and for that input moved by one float32 ULP, measured here with
/// the merged adapter active. The UNet's convolutions and matrix products round differently on different CPUs (the
/// goldens came from an Intel CPU), which disturbs the computation like such a one-ULP change; most adapters barely
/// amplify it (S ≈ 1e-6), but the DARE merges — pruned to half and rescaled by 1/density — do (S ≈ 2–4e-4 for
/// <c>ad_dare_linear</c>): comparing them at 1e-4 passed only on the CPU the golden was made on. That the merged
/// adapter itself is PEFT's is asserted bit for bit on its factors, which depend on no CPU kernel.
/// </remarks>
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
        p.Manager.AddWeightedAdapter(new[] { first, second }, new[] { 1.0, 0.5 }, name, new LoraMergeOptions
        {
            CombinationType = PeftNames.ParseCombinationType(type), SvdRank = svdRank, Density = density, Seed = 0,
        });
        Assert.Equal(new[] { "b" }, p.Manager.GetActiveAdapters()); // like PEFT, merging activates nothing
        p.Manager.SetAdapters(new[] { name });
        if (type.StartsWith("dare", System.StringComparison.Ordinal)) AssertFactorsBitwise(p, name);
        double sensitivity = OneUlpSensitivity(p);
        double tolerance = System.Math.Max(TensorAssert.DefaultRelativeTolerance, SensitivityFactor * sensitivity);
        _output.WriteLine($"unet/merge/{name}: one-ULP sensitivity {sensitivity:E2}, tolerance {tolerance:E2}: {p.AssertUnet($"unet/merge/{name}", tolerance: tolerance)}");
    }

    /// <summary>How many one-ULP input changes the CPU-dependent rounding inside the UNet may amount to.</summary>
    private const double SensitivityFactor = 4;

    /// <summary>The merged DARE factors equal PEFT's bit for bit (the random mask is drawn from the seed in managed code).</summary>
    private static void AssertFactorsBitwise(LoraPipelineHarness p, string name)
    {
        int count = 0;
        foreach (var (module, weights) in p.UnetComponent.GetAdapterWeights(name))
        {
            using var a = GoldenSet.Reference.Tensor($"merge/{name}/{module}.lora_A");
            using var b = GoldenSet.Reference.Tensor($"merge/{name}/{module}.lora_B");
            TensorAssert.Equal(((LowRankWeights)weights).A, a, $"{name} {module}.lora_A");
            TensorAssert.Equal(((LowRankWeights)weights).B, b, $"{name} {module}.lora_B");
            count++;
        }
        Assert.Equal(96, count);
    }

    /// <summary>
    /// The largest relative output change (max |Δ| / max |y|) when the golden sample moves by one ULP per element:
    /// every element up, every element down, and three seeded patterns of random directions (rounding differences
    /// have no common direction).
    /// </summary>
    private static double OneUlpSensitivity(LoraPipelineHarness p)
    {
        var g = GoldenSet.Reference;
        using var noGrad = no_grad();
        using var sample = g.Tensor("inputs/sample");
        using var timestep = g.Tensor("inputs/timestep");
        using var context = g.Tensor("inputs/encoder_hidden_states");
        using var textEmbeds = g.Tensor("inputs/text_embeds");
        using var timeIds = g.Tensor("inputs/time_ids");
        using var y = p.Unet.Forward(sample, timestep, context, textEmbeds, timeIds, null);
        using var up = sample.nextafter(full_like(sample, float.PositiveInfinity));
        using var down = sample.nextafter(full_like(sample, float.NegativeInfinity));
        double worst = 0;
        for (int pattern = 0; pattern < 5; pattern++)
        {
            using var scope = NewDisposeScope();
            Tensor nudged;
            if (pattern == 0) nudged = up;
            else if (pattern == 1) nudged = down;
            else
            {
                using var generator = new Generator(0).manual_seed(pattern);
                nudged = where(rand(sample.shape, generator: generator) < 0.5, up, down);
            }
            var yNudged = p.Unet.Forward(nudged, timestep, context, textEmbeds, timeIds, null);
            worst = System.Math.Max(worst, TensorAssert.Compare(yNudged, y).Relative);
        }
        return worst;
    }
}
