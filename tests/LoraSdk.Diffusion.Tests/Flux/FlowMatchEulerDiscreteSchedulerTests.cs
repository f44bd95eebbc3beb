using System;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>
/// FlowMatchEulerDiscreteScheduler against the schedule FluxPipeline recorded (goldens.json → <c>pipeline.runs</c>):
/// managed scalar math, so timesteps, sigmas and <c>mu</c> are compared bitwise.
/// </summary>
public sealed class FlowMatchEulerDiscreteSchedulerTests
{
    private static FlowMatchEulerDiscreteScheduler Load() => new(
        FlowMatchEulerDiscreteSchedulerConfig.Load(Path.Combine(RepoPaths.TinyFlux, "scheduler", "scheduler_config.json")));

    [Theory]
    [InlineData("p0")]
    [InlineData("p1")]
    public void PipelineScheduleEqualsDiffusersBitwise(string run)
    {
        var golden = GoldenSet.Flux.Node("pipeline", "runs", "base", run);
        var call = golden["set_timesteps_call"]!["kwargs"]!;
        var scheduler = Load();

        double mu = scheduler.CalculateShift(16);
        Assert.Equal(call["mu"]!.AsDouble(), mu);
        double[] sigmas = FlowMatchEulerDiscreteScheduler.PipelineSigmas(4);
        Assert.Equal(call["sigmas"]!.Items.Select(i => i.AsDouble()), sigmas);

        scheduler.SetTimesteps(null, sigmas, mu);
        Assert.Equal(golden["scheduler_timesteps"]!.Items.Select(i => (float)i.AsDouble()), scheduler.Timesteps);
        Assert.Equal(golden["scheduler_sigmas"]!.Items.Select(i => (float)i.AsDouble()), scheduler.Sigmas);
        Assert.Equal(4, scheduler.NumInferenceSteps);
    }

    [Fact]
    public void DynamicShiftingRequiresMu()
    {
        var scheduler = Load();
        var e = Assert.Throws<ArgumentException>(() => scheduler.SetTimesteps(4));
        Assert.Equal("`mu` must be passed when `use_dynamic_shifting` is set to be `True`", e.Message);
    }

    [Fact]
    public void StepIsEulerOnTheSigmas()
    {
        var scheduler = Load();
        scheduler.SetTimesteps(null, FlowMatchEulerDiscreteScheduler.PipelineSigmas(4), scheduler.CalculateShift(16));
        scheduler.SetBeginIndex(0);
        using var sample = arange(6, ScalarType.Float32).reshape(1, 2, 3);
        using var output = ones(1, 2, 3);
        using var next = scheduler.Step(output, scheduler.Timesteps[0], sample);
        float dt = scheduler.Sigmas[1] - scheduler.Sigmas[0];
        using var expected = sample + dt;
        TensorAssert.Equal(next, expected, "x + dt·v");
        Assert.Equal(1, scheduler.StepIndex);
    }
}
