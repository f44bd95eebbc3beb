using System;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Schedulers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Schedulers;

/// <summary>
/// Euler schedule numbers for every timestep spacing (the leading/offset-1 schedules are checked against the goldens
/// in the pipeline parity tests; these follow diffusers' numpy formulas), init_noise_sigma rules and the step math.
/// </summary>
public sealed class EulerDiscreteSchedulerTests
{
    private static EulerDiscreteScheduler Create(string spacing, int offset = 0, string prediction = "epsilon") => new(new EulerDiscreteSchedulerConfig
    {
        BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = "scaled_linear", TimestepSpacing = spacing, StepsOffset = offset,
        PredictionType = prediction,
    });

    [Theory]
    [InlineData("leading", 1, 4, new float[] { 751, 501, 251, 1 })]
    [InlineData("leading", 1, 3, new float[] { 667, 334, 1 })]
    [InlineData("leading", 0, 4, new float[] { 750, 500, 250, 0 })]
    [InlineData("linspace", 0, 4, new float[] { 999, 666, 333, 0 })]
    [InlineData("trailing", 0, 4, new float[] { 999, 749, 499, 249 })]
    [InlineData("trailing", 0, 3, new float[] { 999, 666, 332 })]
    public void TimestepsFollowDiffusersSpacing(string spacing, int offset, int steps, float[] expected)
    {
        var s = Create(spacing, offset);
        s.SetTimesteps(steps);
        Assert.Equal(expected, s.Timesteps);
        Assert.Equal(steps + 1, s.Sigmas.Length);
        Assert.Equal(0f, s.Sigmas[^1]);
    }

    [Fact]
    public void SigmasAtIntegerTimestepsAreTheTrainingSigmasAndFractionalOnesInterpolate()
    {
        var s = Create("linspace");
        s.SetTimesteps(7);
        Assert.Equal(999f, s.Timesteps[0]);
        Assert.Equal(832.5f, s.Timesteps[1]);
        double Train(int t) => Math.Sqrt((1 - (double)s.AlphasCumprod[t]) / s.AlphasCumprod[t]);
        Assert.Equal(14.6146, s.Sigmas[0], 4);
        Assert.Equal((float)Train(999), s.Sigmas[0], 5);
        double mid = (Train(832) + Train(833)) / 2;
        Assert.Equal(mid, s.Sigmas[1], 4);
    }

    [Fact]
    public void InitNoiseSigmaIsMaxSigmaForLinspaceAndTrailingElseSqrtOfSquarePlusOne()
    {
        var linspace = Create("linspace");
        linspace.SetTimesteps(4);
        Assert.Equal(linspace.Sigmas.Max(), linspace.InitNoiseSigma);
        var trailing = Create("trailing");
        trailing.SetTimesteps(4);
        Assert.Equal(trailing.Sigmas.Max(), trailing.InitNoiseSigma);
        var leading = Create("leading", 1);
        leading.SetTimesteps(4);
        float max = leading.Sigmas.Max();
        Assert.Equal(MathF.Sqrt(max * max + 1f), leading.InitNoiseSigma);
        Assert.Equal(4.236414f, leading.InitNoiseSigma, 5);
    }

    [Fact]
    public void EpsilonStepIsTheEulerUpdateAndAdvancesTheIndex()
    {
        var s = Create("leading", 1);
        s.SetTimesteps(4);
        s.SetBeginIndex(0);
        using var sample = full(new long[] { 1, 4, 2, 2 }, 2.0f);
        using var eps = full(new long[] { 1, 4, 2, 2 }, 0.5f);
        using var scaled = s.ScaleModelInput(sample, s.Timesteps[0]);
        Assert.Equal(2.0 / Math.Sqrt(s.Sigmas[0] * (double)s.Sigmas[0] + 1), scaled[0, 0, 0, 0].item<float>(), 5);
        using var next = s.Step(eps, s.Timesteps[0], sample);
        double expected = 2.0 + 0.5 * (s.Sigmas[1] - (double)s.Sigmas[0]);
        Assert.Equal(expected, next[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal(1, s.StepIndex);
    }

    [Fact]
    public void VPredictionStepUsesDiffusersFormula()
    {
        var s = Create("leading", 1, "v_prediction");
        s.SetTimesteps(2);
        s.SetBeginIndex(0);
        using var sample = full(new long[] { 1, 1, 1, 1 }, 1.5f);
        using var v = full(new long[] { 1, 1, 1, 1 }, -0.25f);
        using var next = s.Step(v, s.Timesteps[0], sample);
        double sigma = s.Sigmas[0];
        double pred = -0.25 * (-sigma / Math.Sqrt(sigma * sigma + 1)) + 1.5 / (sigma * sigma + 1);
        double expected = 1.5 + (1.5 - pred) / sigma * (s.Sigmas[1] - sigma);
        Assert.Equal(expected, next.item<float>(), 4);
    }

    [Fact]
    public void WithoutBeginIndexTheStepIndexComesFromTheTimestep()
    {
        var s = Create("leading", 1);
        s.SetTimesteps(4);
        using var sample = zeros(1, 1, 1, 1);
        using var scaled = s.ScaleModelInput(sample, 251f);
        Assert.Equal(2, s.StepIndex);
        Assert.Throws<ArgumentException>(() => Create("leading", 1).ScaleModelInput(sample, 123.5f));
    }
}
