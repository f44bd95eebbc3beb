namespace LoraSdk.Diffusion.Configuration;

/// <summary>diffusers' <c>FlowMatchEulerDiscreteScheduler</c> config (<c>scheduler/scheduler_config.json</c>).</summary>
public sealed class FlowMatchEulerDiscreteSchedulerConfig
{
    /// <summary>Training timesteps.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary>The static shift (used when <see cref="UseDynamicShifting"/> is off).</summary>
    public double Shift { get; init; } = 1.0;

    /// <summary>Resolution-dependent shifting with the pipeline's <c>mu</c> (FLUX.1-dev: true).</summary>
    public bool UseDynamicShifting { get; init; }

    /// <summary><c>base_shift</c> of the pipeline's <c>calculate_shift</c>.</summary>
    public double BaseShift { get; init; } = 0.5;

    /// <summary><c>max_shift</c> of the pipeline's <c>calculate_shift</c>.</summary>
    public double MaxShift { get; init; } = 1.15;

    /// <summary><c>base_image_seq_len</c> of the pipeline's <c>calculate_shift</c>.</summary>
    public int BaseImageSeqLen { get; init; } = 256;

    /// <summary><c>max_image_seq_len</c> of the pipeline's <c>calculate_shift</c>.</summary>
    public int MaxImageSeqLen { get; init; } = 4096;

    /// <summary><c>exponential</c> (default) or <c>linear</c> dynamic time shift.</summary>
    public string TimeShiftType { get; init; } = "exponential";

    /// <summary>Reads a <c>scheduler_config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types, or an option this host does not implement.</exception>
    public static FlowMatchEulerDiscreteSchedulerConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON with diffusers' defaults; refuses options that are not implemented.</summary>
    public static FlowMatchEulerDiscreteSchedulerConfig FromConfig(ConfigFile c)
    {
        foreach (var flag in new[] { "invert_sigmas", "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas", "stochastic_sampling" })
            if (c.GetBool(flag, false))
                throw c.Unsupported(flag, $"{flag}=true is not supported by this host's FlowMatchEulerDiscreteScheduler");
        if (c.GetNullableDouble("shift_terminal") is double terminal && terminal != 0)
            throw c.Unsupported("shift_terminal", "shift_terminal is not supported by this host's FlowMatchEulerDiscreteScheduler");
        string shiftType = c.GetString("time_shift_type", "exponential")!;
        if (shiftType is not ("exponential" or "linear"))
            throw c.InvalidValue("time_shift_type", "`time_shift_type` must either be 'exponential' or 'linear'.");
        return new FlowMatchEulerDiscreteSchedulerConfig
        {
            NumTrainTimesteps = c.GetInt("num_train_timesteps", 1000),
            Shift = c.GetDouble("shift", 1.0),
            UseDynamicShifting = c.GetBool("use_dynamic_shifting", false),
            BaseShift = c.GetDouble("base_shift", 0.5),
            MaxShift = c.GetDouble("max_shift", 1.15),
            BaseImageSeqLen = c.GetInt("base_image_seq_len", 256),
            MaxImageSeqLen = c.GetInt("max_image_seq_len", 4096),
            TimeShiftType = shiftType,
        };
    }
}
