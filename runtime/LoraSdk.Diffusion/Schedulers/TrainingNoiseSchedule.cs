using System;
using LoraSdk.Diffusion.Configuration;

namespace LoraSdk.Diffusion.Schedulers;

/// <summary>
/// The training noise schedule of diffusers' discrete schedulers (betas → alphas_cumprod → sigmas), computed in managed
/// code so that it is the same on every CPU. diffusers computes it with torch in float32, and two of those torch
/// kernels give CPU-dependent bits: <c>pow(0.5)</c> runs a vendor-dependent math-library square root (on AMD EPYC it
/// is one ULP off IEEE <c>sqrt</c> for about 17 % of the 1000 training sigmas; the reference Intel machine matched IEEE),
/// and <c>linspace</c> rounds differently depending on whether libtorch's kernel was compiled with FMA (every
/// AVX2/AVX-512 build, which is what the reference used) or not (<c>ATEN_CPU_CAPABILITY=default</c>).
/// Here: float32 arithmetic exactly as libtorch's AVX2/AVX-512 kernels perform it, <c>cumprod</c> accumulated in
/// double as libtorch's CPU kernel does, and correctly rounded IEEE square roots.
/// </summary>
internal static class TrainingNoiseSchedule
{
    /// <summary>The betas of <paramref name="config"/> (float32, one per training timestep).</summary>
    public static float[] Betas(EulerDiscreteSchedulerConfig config)
    {
        int n = config.NumTrainTimesteps;
        float[] betas;
        if (config.TrainedBetas is not null)
        {
            betas = new float[config.TrainedBetas.Count];
            for (int i = 0; i < betas.Length; i++) betas[i] = (float)config.TrainedBetas[i];
        }
        else if (config.BetaSchedule == "linear")
        {
            betas = Linspace((float)config.BetaStart, (float)config.BetaEnd, n);
        }
        else if (config.BetaSchedule == "scaled_linear")
        {
            // torch.linspace(beta_start ** 0.5, beta_end ** 0.5, n) ** 2: the roots are Python floats (double).
            betas = Linspace((float)Math.Sqrt(config.BetaStart), (float)Math.Sqrt(config.BetaEnd), n);
            for (int i = 0; i < n; i++) betas[i] *= betas[i];
        }
        else
        {
            throw new InvalidOperationException($"beta_schedule '{config.BetaSchedule}' passed config validation but has no schedule");
        }
        return config.RescaleBetasZeroSnr ? RescaleZeroTerminalSnr(betas) : betas;
    }

    /// <summary>alphas_cumprod = cumprod(1 − betas): products accumulated in double, each stored as float32 (libtorch's CPU cumprod).</summary>
    public static float[] AlphasCumprod(float[] betas)
    {
        var result = new float[betas.Length];
        double acc = 1.0;
        for (int i = 0; i < betas.Length; i++)
        {
            acc *= 1f - betas[i];
            result[i] = (float)acc;
        }
        return result;
    }

    /// <summary>sigma = sqrt((1 − alphas_cumprod) / alphas_cumprod), float32 with an IEEE square root.</summary>
    public static float[] Sigmas(float[] alphasCumprod)
    {
        var sigmas = new float[alphasCumprod.Length];
        for (int i = 0; i < sigmas.Length; i++)
        {
            float a = alphasCumprod[i];
            sigmas[i] = MathF.Sqrt((1f - a) / a);
        }
        return sigmas;
    }

    /// <summary>
    /// <c>torch.linspace(start, end, steps, dtype=float32)</c> as libtorch's AVX2/AVX-512 CPU kernel computes it: step =
    /// (end − start) / (steps − 1) in float32; the first half counts up from <paramref name="start"/>, the second half
    /// down from <paramref name="end"/>, each value one fused multiply-add.
    /// </summary>
    public static float[] Linspace(float start, float end, int steps)
    {
        var values = new float[steps];
        if (steps == 1)
        {
            values[0] = start;
            return values;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++)
            values[i] = i < halfway ? MathF.FusedMultiplyAdd(step, i, start) : MathF.FusedMultiplyAdd(-step, steps - i - 1, end);
        return values;
    }

    /// <summary>diffusers' <c>rescale_zero_terminal_snr</c> in float32 (square roots IEEE, squares as products).</summary>
    private static float[] RescaleZeroTerminalSnr(float[] betas)
    {
        int n = betas.Length;
        var alphasCumprod = AlphasCumprod(betas);
        var barSqrt = new float[n];
        for (int i = 0; i < n; i++) barSqrt[i] = MathF.Sqrt(alphasCumprod[i]);
        float first = barSqrt[0], last = barSqrt[n - 1];
        float factor = first / (first - last);
        var alphasBar = new float[n];
        for (int i = 0; i < n; i++)
        {
            float shifted = (barSqrt[i] - last) * factor;
            alphasBar[i] = shifted * shifted;
        }
        var rescaled = new float[n];
        rescaled[0] = 1f - alphasBar[0];
        for (int i = 1; i < n; i++) rescaled[i] = 1f - alphasBar[i] / alphasBar[i - 1];
        return rescaled;
    }
}
