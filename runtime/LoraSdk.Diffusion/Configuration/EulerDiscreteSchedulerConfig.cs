using System.Collections.Generic;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>diffusers' <c>EulerDiscreteScheduler</c> config (<c>scheduler_config.json</c>).</summary>
public sealed class EulerDiscreteSchedulerConfig
{
    /// <summary>The file the config was read from (kept so saving writes every entry back), or null for a config built in code.</summary>
    public ConfigFile? Source { get; init; }

    /// <summary>Training timesteps.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary>First beta.</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary>Last beta.</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary><c>linear</c> or <c>scaled_linear</c>.</summary>
    public string BetaSchedule { get; init; } = "linear";

    /// <summary>Explicit betas, or null.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary><c>epsilon</c>, <c>v_prediction</c> or <c>sample</c>.</summary>
    public string PredictionType { get; init; } = "epsilon";

    /// <summary><c>linear</c> or <c>log_linear</c>.</summary>
    public string InterpolationType { get; init; } = "linear";

    /// <summary><c>linspace</c>, <c>leading</c> or <c>trailing</c>.</summary>
    public string TimestepSpacing { get; init; } = "linspace";

    /// <summary>Offset added to <c>leading</c> timesteps.</summary>
    public int StepsOffset { get; init; }

    /// <summary><c>zero</c> or <c>sigma_min</c>.</summary>
    public string FinalSigmasType { get; init; } = "zero";

    /// <summary>Whether the betas are rescaled to zero terminal SNR.</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads a <c>scheduler_config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types, or an unsupported option.</exception>
    public static EulerDiscreteSchedulerConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON with diffusers' defaults.</summary>
    public static EulerDiscreteSchedulerConfig FromConfig(ConfigFile c)
    {
        var cfg = new EulerDiscreteSchedulerConfig
        {
            Source = c,
            NumTrainTimesteps = c.GetInt("num_train_timesteps", 1000),
            BetaStart = c.GetDouble("beta_start", 0.0001),
            BetaEnd = c.GetDouble("beta_end", 0.02),
            BetaSchedule = c.GetString("beta_schedule", "linear")!,
            TrainedBetas = ReadBetas(c),
            PredictionType = c.GetString("prediction_type", "epsilon")!,
            InterpolationType = c.GetString("interpolation_type", "linear")!,
            TimestepSpacing = c.GetString("timestep_spacing", "linspace")!,
            StepsOffset = c.GetInt("steps_offset", 0),
            FinalSigmasType = c.GetString("final_sigmas_type", "zero")!,
            RescaleBetasZeroSnr = c.GetBool("rescale_betas_zero_snr", false),
        };
        if (cfg.BetaSchedule is not ("linear" or "scaled_linear") && cfg.TrainedBetas is null)
            throw c.Unsupported("beta_schedule", $"{cfg.BetaSchedule} is not implemented (linear, scaled_linear)");
        if (cfg.PredictionType is not ("epsilon" or "v_prediction" or "sample" or "original_sample"))
            throw c.InvalidValue("prediction_type", $"prediction_type given as {cfg.PredictionType} must be one of `epsilon`, or `v_prediction`");
        if (cfg.InterpolationType is not ("linear" or "log_linear"))
            throw c.InvalidValue("interpolation_type", $"{cfg.InterpolationType} is not implemented. Please specify interpolation_type to either 'linear' or 'log_linear'");
        if (cfg.TimestepSpacing is not ("linspace" or "leading" or "trailing"))
            throw c.InvalidValue("timestep_spacing", $"{cfg.TimestepSpacing} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.");
        if (cfg.FinalSigmasType is not ("zero" or "sigma_min"))
            throw c.InvalidValue("final_sigmas_type", $"`final_sigmas_type` must be one of 'zero', or 'sigma_min', but got {cfg.FinalSigmasType}");
        foreach (var key in new[] { "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas" })
            if (c.GetBool(key, false)) throw c.Unsupported(key, "not supported by this host");
        string timestepType = c.GetString("timestep_type", "discrete")!;
        if (timestepType != "discrete") throw c.Unsupported("timestep_type", $"'{timestepType}' is not supported (discrete)");
        return cfg;
    }

    private static IReadOnlyList<double>? ReadBetas(ConfigFile c)
    {
        var v = c.Get("trained_betas");
        if (v is null) return null;
        if (v.Kind != Core.JsonValueKind.Array) throw c.InvalidValue("trained_betas", "expected a list of numbers");
        var list = new List<double>();
        foreach (var item in v.Items) list.Add(item.AsDouble());
        return list;
    }
}
