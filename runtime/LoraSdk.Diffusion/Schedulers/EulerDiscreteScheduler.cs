using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Schedulers;

/// <summary>
/// diffusers' <c>EulerDiscreteScheduler</c> (deterministic: <c>s_churn = 0</c>). The training noise schedule is
/// computed in managed float32 arithmetic exactly as the reference's torch kernels do (<see cref="TrainingNoiseSchedule"/>:
/// the same bits on every CPU); the timestep/sigma interpolation follows numpy (<c>np.interp</c> in float64, then
/// float32). Stateful like diffusers: <see cref="SetTimesteps"/>, then per step <see cref="ScaleModelInput"/>
/// and <see cref="Step"/>.
/// </summary>
public sealed class EulerDiscreteScheduler
{
    private readonly double[] _trainSigmas;
    private readonly float _trainSigmaFirst;

    /// <summary>Creates the scheduler from its config (diffusers' <c>__init__</c>).</summary>
    public EulerDiscreteScheduler(EulerDiscreteSchedulerConfig config)
    {
        Config = config;
        int n = config.NumTrainTimesteps;
        float[] betas = TrainingNoiseSchedule.Betas(config);
        float[] alphasCumprod = TrainingNoiseSchedule.AlphasCumprod(betas);
        if (config.RescaleBetasZeroSnr) alphasCumprod[n - 1] = MathF.Pow(2, -24);
        AlphasCumprod = alphasCumprod;
        float[] sigmasF = TrainingNoiseSchedule.Sigmas(alphasCumprod);
        _trainSigmas = sigmasF.Select(s => (double)s).ToArray();
        _trainSigmaFirst = sigmasF[0];

        // Initial (training) schedule, as diffusers sets before set_timesteps.
        Timesteps = Enumerable.Range(0, n).Select(i => (float)(n - 1 - i)).ToArray();
        Sigmas = sigmasF.Reverse().Append(0f).ToArray();
    }

    /// <summary>The configuration.</summary>
    public EulerDiscreteSchedulerConfig Config { get; }

    /// <summary>Cumulative products of the alphas (float32), one per training timestep.</summary>
    public IReadOnlyList<float> AlphasCumprod { get; }

    /// <summary>The current timesteps (float32), one per inference step.</summary>
    public float[] Timesteps { get; private set; }

    /// <summary>The current sigmas (float32), one per step plus the final one.</summary>
    public float[] Sigmas { get; private set; }

    /// <summary>Number of inference steps set by <see cref="SetTimesteps"/>, or null.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The step index the next <see cref="Step"/> uses (diffusers' <c>step_index</c>), or null before the first call.</summary>
    public int? StepIndex { get; private set; }

    /// <summary>The index the first step starts at (diffusers' <c>begin_index</c>), or null.</summary>
    public int? BeginIndex { get; private set; }

    /// <summary>The scheduler order (1 for Euler).</summary>
    public int Order => 1;

    /// <summary>
    /// Standard deviation of the initial noise: the largest sigma for <c>linspace</c>/<c>trailing</c>, else
    /// <c>sqrt(max_sigma² + 1)</c> (float32 arithmetic as in diffusers).
    /// </summary>
    public float InitNoiseSigma
    {
        get
        {
            float max = Sigmas.Max();
            if (Config.TimestepSpacing is "linspace" or "trailing") return max;
            return MathF.Sqrt(max * max + 1f);
        }
    }

    /// <summary>Sets the discrete timesteps and sigmas for <paramref name="numInferenceSteps"/> steps.</summary>
    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1) throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), "must be at least 1");
        var c = Config;
        int n = c.NumTrainTimesteps;
        float[] timesteps;
        switch (c.TimestepSpacing)
        {
            case "linspace":
            {
                var t = new float[numInferenceSteps];
                double step = numInferenceSteps > 1 ? (n - 1) / (double)(numInferenceSteps - 1) : 0;
                for (int i = 0; i < numInferenceSteps; i++)
                    t[numInferenceSteps - 1 - i] = i == numInferenceSteps - 1 && numInferenceSteps > 1 ? n - 1 : (float)(i * step);
                timesteps = t;
                break;
            }
            case "leading":
            {
                int ratio = n / numInferenceSteps;
                timesteps = Enumerable.Range(0, numInferenceSteps).Reverse()
                    .Select(i => (float)Math.Round((double)i * ratio, MidpointRounding.ToEven) + c.StepsOffset).ToArray();
                break;
            }
            default:
            {
                double ratio = n / (double)numInferenceSteps;
                // np.arange(n, 0, -ratio): ceil((0 - n) / -ratio) values n + i * (-ratio), then round, then - 1.
                int count = (int)Math.Ceiling((0.0 - n) / -ratio);
                var list = new List<float>(count);
                for (int k = 0; k < count; k++)
                    list.Add((float)Math.Round(n + k * -ratio, MidpointRounding.ToEven) - 1f);
                timesteps = list.ToArray();
                break;
            }
        }

        double[] sigmas;
        if (c.InterpolationType == "linear")
        {
            sigmas = timesteps.Select(t => Interp(t, _trainSigmas)).ToArray();
        }
        else
        {
            using var scope = NewDisposeScope();
            var logSigmas = linspace(Math.Log(_trainSigmas[^1]), Math.Log(_trainSigmas[0]), numInferenceSteps + 1).exp();
            sigmas = logSigmas.data<float>().Select(f => (double)f).ToArray();
        }
        float last = c.FinalSigmasType == "sigma_min" ? _trainSigmaFirst : 0f;
        Sigmas = sigmas.Select(s => (float)s).Append(last).ToArray();
        Timesteps = timesteps;
        NumInferenceSteps = numInferenceSteps;
        StepIndex = null;
        BeginIndex = null;
    }

    /// <summary>Sets the index of the first step (the SDXL pipeline sets 0).</summary>
    public void SetBeginIndex(int beginIndex = 0) => BeginIndex = beginIndex;

    /// <summary>Divides the model input by <c>sqrt(sigma² + 1)</c> for the current step.</summary>
    public Tensor ScaleModelInput(Tensor sample, float timestep)
    {
        StepIndex ??= InitialStepIndex(timestep);
        float sigma = Sigmas[StepIndex.Value];
        float divisor = MathF.Sqrt(sigma * sigma + 1f);
        using var d = tensor(divisor, ScalarType.Float32);
        return sample / d;
    }

    /// <summary>One Euler step from the model output; returns the previous (less noisy) sample.</summary>
    public Tensor Step(Tensor modelOutput, float timestep, Tensor sample)
    {
        StepIndex ??= InitialStepIndex(timestep);
        int i = StepIndex.Value;
        using var scope = NewDisposeScope();
        Tensor s = sample.to_type(ScalarType.Float32);
        float sigma = Sigmas[i];
        float sigmaHat = sigma * 1f;
        Tensor sigmaHatT = tensor(sigmaHat, ScalarType.Float32);
        Tensor predOriginal = Config.PredictionType switch
        {
            "epsilon" => s - sigmaHatT * modelOutput,
            "v_prediction" => modelOutput * tensor(-sigma / MathF.Sqrt(sigma * sigma + 1f), ScalarType.Float32)
                + s / tensor(sigma * sigma + 1f, ScalarType.Float32),
            _ => modelOutput,
        };
        Tensor derivative = (s - predOriginal) / sigmaHatT;
        Tensor dt = tensor(Sigmas[i + 1] - sigmaHat, ScalarType.Float32);
        Tensor prev = (s + derivative * dt).to_type(modelOutput.dtype);
        StepIndex = i + 1;
        return prev.MoveToOuterDisposeScope();
    }

    private int InitialStepIndex(float timestep)
    {
        if (BeginIndex is int b) return b;
        var matches = Enumerable.Range(0, Timesteps.Length).Where(k => Timesteps[k] == timestep).ToList();
        if (matches.Count == 0) throw new ArgumentException($"timestep {timestep} is not in the schedule", nameof(timestep));
        return matches.Count > 1 ? matches[1] : matches[0];
    }

    private static double Interp(double x, double[] fp)
    {
        int last = fp.Length - 1;
        if (x <= 0) return fp[0];
        if (x >= last) return fp[last];
        int j = (int)Math.Floor(x);
        if (x == j) return fp[j];
        double slope = (fp[j + 1] - fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }
}
