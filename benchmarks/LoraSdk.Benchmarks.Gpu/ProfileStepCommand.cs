using System;
using System.Globalization;
using LoraSdk.Layers;
using static TorchSharp.torch;

/// <summary>
/// <c>profile-step [--adapters N] [--materialized] [--dtype fp16] [--latent 128] [--rank 32]</c>: builds the graph-bench
/// workload, runs three eager warm-up steps, then one eager step between <c>cuProfilerStart</c> and
/// <c>cuProfilerStop</c> — what <c>ncu --profile-from-start off</c> (benchmarks/gpu/kernel-profile.sh) measures, kernel
/// by kernel. The CUDA driver's profiler API is called through <see cref="CudaProfilerRange"/>.
/// </summary>
internal static class ProfileStepCommand
{
    public const string Name = "profile-step";

    public static int Run(string[] args)
    {
        string deviceName = "cuda";
        var dtype = ScalarType.Float16;
        int latent = 128, rank = 32, adapters = 0;
        bool materialized = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--device": deviceName = Next(); break;
                case "--dtype":
                    dtype = Next() switch
                    {
                        "bf16" or "bfloat16" => ScalarType.BFloat16,
                        "fp32" or "float32" => ScalarType.Float32,
                        _ => ScalarType.Float16,
                    };
                    break;
                case "--latent": latent = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rank": rank = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--adapters": adapters = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--materialized": materialized = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        var device = new Device(deviceName);
        using var noGrad = no_grad();
        using var w = new SdxlWorkload(device, dtype, latent);
        if (adapters > 0) w.EnsureAdapters(adapters, rank);
        w.Component.ForwardMode = materialized ? LoraForwardMode.Materialized : LoraForwardMode.Unfused;
        var inputs = w.Inputs;
        for (int i = 0; i < 3; i++) w.Step(inputs).Dispose();
        cuda.synchronize(device);
        int started = CudaProfilerRange.Start();
        w.Step(inputs).Dispose();
        cuda.synchronize(device);
        int stopped = CudaProfilerRange.Stop();
        Console.WriteLine($"profile-step: {adapters} adapter(s){(materialized ? " materialized" : "")}, {dtype}, latent {latent}; cuProfilerStart {started}, cuProfilerStop {stopped}");
        return started == 0 && stopped == 0 ? 0 : 1;
    }
}
