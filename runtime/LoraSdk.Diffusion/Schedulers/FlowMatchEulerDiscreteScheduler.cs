using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Schedulers;

/// <summary>
/// diffusers' <c>FlowMatchEulerDiscreteScheduler</c> (deterministic Euler over flow-matching sigmas). The schedule is
/// scalar math done in managed code in the reference's own precision — numpy float32 for given sigmas (as FluxPipeline
/// passes them), float64 for the default linspace, torch float32 for the final <c>timesteps = sigmas · N</c> — so
/// <see cref="Timesteps"/> and <see cref="Sigmas"/> equal diffusers' bit for bit on any CPU. Stateful: one call at a time.
/// </summary>
public sealed class FlowMatchEulerDiscreteScheduler
{
    /// <summary>Creates the scheduler (training schedule as diffusers' constructor builds it).</summary>
    public FlowMatchEulerDiscreteScheduler(FlowMatchEulerDiscreteSchedulerConfig config)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        int n = config.NumTrainTimesteps;
        // np.linspace(1, N, N, float32)[::-1] / N in torch float32, statically shifted when not dynamic.
        var sigmas = new float[n];
        double step = (double)(n - 1) / Math.Max(n - 1, 1);
        for (int i = 0; i < n; i++)
        {
            float t = i == n - 1 ? n : (float)(i * step + 1.0);
            float s = t / n;
            if (!config.UseDynamicShifting) s = StaticShift(s);
            sigmas[n - 1 - i] = s;
        }
        Sigmas = sigmas;
        Timesteps = sigmas.Select(s => s * n).ToArray();
        SigmaMin = sigmas[^1];
        SigmaMax = sigmas[0];
    }

    /// <summary>The configuration.</summary>
    public FlowMatchEulerDiscreteSchedulerConfig Config { get; }

    /// <summary>The timesteps of the current schedule (<c>sigmas · num_train_timesteps</c>).</summary>
    public float[] Timesteps { get; private set; }

    /// <summary>The sigmas of the current schedule, followed by the terminal 0.</summary>
    public float[] Sigmas { get; private set; }

    /// <summary>The smallest training sigma (<c>sigma_min</c>).</summary>
    public float SigmaMin { get; }

    /// <summary>The largest training sigma (<c>sigma_max</c>).</summary>
    public float SigmaMax { get; }

    /// <summary>Steps of the current schedule, or null before <see cref="SetTimesteps"/>.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The index of the next step, or null before the first <see cref="Step"/>.</summary>
    public int? StepIndex { get; private set; }

    /// <summary>The first step's index when set by the pipeline.</summary>
    public int? BeginIndex { get; private set; }

    /// <summary>The scheduler order (1: one model call per step).</summary>
    public int Order => 1;

    /// <summary>
    /// FluxPipeline's <c>calculate_shift</c>: <c>mu</c> interpolated linearly in the image sequence length between
    /// (<c>base_image_seq_len</c>, <c>base_shift</c>) and (<c>max_image_seq_len</c>, <c>max_shift</c>), in float64.
    /// </summary>
    public static double CalculateShift(long imageSeqLen, int baseSeqLen = 256, int maxSeqLen = 4096, double baseShift = 0.5, double maxShift = 1.15)
    {
        double m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
        double b = baseShift - m * baseSeqLen;
        return imageSeqLen * m + b;
    }

    /// <summary><see cref="CalculateShift(long, int, int, double, double)"/> with this scheduler's config values.</summary>
    public double CalculateShift(long imageSeqLen) =>
        CalculateShift(imageSeqLen, Config.BaseImageSeqLen, Config.MaxImageSeqLen, Config.BaseShift, Config.MaxShift);

    /// <summary>
    /// FluxPipeline's default sigmas <c>np.linspace(1.0, 1 / N, N)</c> (float64, numpy's algorithm: <c>i · step + 1</c>,
    /// the last one exactly <c>1 / N</c>).
    /// </summary>
    public static double[] PipelineSigmas(int numInferenceSteps)
    {
        if (numInferenceSteps < 1) throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), "must be at least 1");
        double start = 1.0, stop = 1.0 / numInferenceSteps;
        return Linspace(start, stop, numInferenceSteps);
    }

    /// <summary>
    /// diffusers' <c>set_timesteps(num_inference_steps, sigmas=…, mu=…, timesteps=…)</c>. With
    /// <paramref name="sigmas"/> (FluxPipeline's way) they are cast to float32 and shifted in float32; without them
    /// the default float64 linspace between the training sigmas is used. <paramref name="mu"/> is required with
    /// <c>use_dynamic_shifting</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Missing <c>mu</c>, inconsistent lengths, or no way to size the schedule.</exception>
    public void SetTimesteps(int? numInferenceSteps = null, IReadOnlyList<double>? sigmas = null, double? mu = null, IReadOnlyList<float>? timesteps = null)
    {
        if (Config.UseDynamicShifting && mu is null)
            throw new ArgumentException("`mu` must be passed when `use_dynamic_shifting` is set to be `True`");
        if (sigmas is not null && timesteps is not null && sigmas.Count != timesteps.Count)
            throw new ArgumentException("`sigmas` and `timesteps` should have the same length");
        if (numInferenceSteps is int n0)
        {
            if ((sigmas is not null && sigmas.Count != n0) || (timesteps is not null && timesteps.Count != n0))
                throw new ArgumentException("`sigmas` and `timesteps` should have the same length as num_inference_steps, if `num_inference_steps` is provided");
        }
        else if (sigmas is null && timesteps is null)
        {
            throw new ArgumentException("pass num_inference_steps, sigmas or timesteps");
        }
        int n = numInferenceSteps ?? sigmas?.Count ?? timesteps!.Count;
        if (n < 1) throw new ArgumentException("num_inference_steps must be at least 1");
        NumInferenceSteps = n;
        int trainSteps = Config.NumTrainTimesteps;

        float[] shifted;
        if (sigmas is null && timesteps is null)
        {
            // float64 path: np.linspace(sigma_max·N, sigma_min·N, n) / N, shifted in float64, then cast to float32.
            double[] ts = Linspace((double)SigmaMax * trainSteps, (double)SigmaMin * trainSteps, n);
            shifted = ts.Select(t => (float)ShiftDouble(t / trainSteps, mu)).ToArray();
        }
        else
        {
            float[] s32 = sigmas is not null
                ? sigmas.Select(s => (float)s).ToArray()
                : timesteps!.Select(t => t / trainSteps).ToArray();
            shifted = s32.Select(s => ShiftSingle(s, mu)).ToArray();
        }
        Timesteps = shifted.Select(s => s * trainSteps).ToArray();
        Sigmas = shifted.Append(0f).ToArray();
        StepIndex = null;
        BeginIndex = null;
    }

    /// <summary>Sets the index of the first step (FluxPipeline sets 0).</summary>
    public void SetBeginIndex(int beginIndex = 0) => BeginIndex = beginIndex;

    /// <summary>
    /// One Euler step: <c>sample + (σ_next − σ) · model_output</c> with the sample in float32 and <c>dt</c> a float32
    /// scalar tensor; returns the result in the model output's dtype.
    /// </summary>
    public Tensor Step(Tensor modelOutput, float timestep, Tensor sample)
    {
        StepIndex ??= InitialStepIndex(timestep);
        int i = StepIndex.Value;
        if (i + 1 >= Sigmas.Length) throw new InvalidOperationException("the schedule has no step left; call SetTimesteps first");
        using var scope = NewDisposeScope();
        Tensor s = sample.to_type(ScalarType.Float32);
        Tensor dt = tensor(Sigmas[i + 1], ScalarType.Float32, s.device) - tensor(Sigmas[i], ScalarType.Float32, s.device);
        Tensor prev = (s + dt * modelOutput).to_type(modelOutput.dtype);
        StepIndex = i + 1;
        return prev.MoveToOuterDisposeScope();
    }

    private float StaticShift(float s)
    {
        float shift = (float)Config.Shift;
        return shift * s / (1f + (float)(Config.Shift - 1) * s);
    }

    // numpy float32 arithmetic: python float scalars are rounded to float32 before each operation (NEP 50).
    private float ShiftSingle(float s, double? mu)
    {
        if (!Config.UseDynamicShifting) return StaticShift(s);
        float m = (float)(Config.TimeShiftType == "linear" ? mu!.Value : Math.Exp(mu!.Value));
        float p = MathF.Pow(1f / s - 1f, 1f);
        return m / (m + p);
    }

    private double ShiftDouble(double s, double? mu)
    {
        if (!Config.UseDynamicShifting) return Config.Shift * s / (1 + (Config.Shift - 1) * s);
        double m = Config.TimeShiftType == "linear" ? mu!.Value : Math.Exp(mu!.Value);
        return m / (m + Math.Pow(1 / s - 1, 1.0));
    }

    // numpy.linspace with endpoint: start + i·step, the last value exactly stop.
    private static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        if (num == 1)
        {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = step == 0 ? i / (double)(num - 1) * (stop - start) + start : i * step + start;
        y[num - 1] = stop;
        return y;
    }

    private int InitialStepIndex(float timestep)
    {
        if (BeginIndex is int b) return b;
        var matches = Enumerable.Range(0, Timesteps.Length).Where(k => Timesteps[k] == timestep).ToList();
        if (matches.Count == 0) throw new ArgumentException($"timestep {timestep} is not in the schedule", nameof(timestep));
        return matches.Count > 1 ? matches[1] : matches[0];
    }
}
