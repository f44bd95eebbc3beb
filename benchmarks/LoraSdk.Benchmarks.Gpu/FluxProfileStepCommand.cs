using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// <c>flux-profile-step [--adapters N] [--materialized] [flux-bench's workload options: --dtype, --height, --width,
/// --text-tokens, --rank, --device, --tiny]</c>: builds the Flux workload of <c>flux-bench</c> (<see cref="FluxWorkload"/>,
/// FLUX.1-dev-sized, bf16, 1024², 512 text tokens by default), runs three eager warm-up steps, then one eager step
/// between <c>cuProfilerStart</c> and <c>cuProfilerStop</c> (<see cref="CudaProfilerRange"/>) — what
/// <c>ncu --profile-from-start off</c> measures kernel by kernel (benchmarks/gpu/kernel-profile.sh --flux), next to
/// <c>diffusers_flux_bench.py --profile-step N</c>. On a device that is not CUDA (<c>--tiny</c> on the CPU) the same
/// steps run and no profiler range is opened.
/// </summary>
internal static class FluxProfileStepCommand
{
    public const string Name = "flux-profile-step";

    public static int Run(string[] args)
    {
        int adapters = 0;
        bool materialized = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--adapters":
                    adapters = i + 1 < args.Length ? int.Parse(args[++i], CultureInfo.InvariantCulture) : throw new ArgumentException("--adapters needs a value");
                    break;
                case "--materialized": materialized = true; break;
                case "--iterations" or "--rounds" or "--only" or "--no-graph":
                    throw new ArgumentException($"{args[i]} is a flux-bench option; flux-profile-step runs three warm-up steps and one profiled step");
                default: rest.Add(args[i]); break;
            }
        }
        if (adapters < 0) throw new ArgumentException("--adapters must be 0 or more");
        if (materialized && adapters == 0) throw new ArgumentException("--materialized needs --adapters N (N > 0)");
        var o = FluxOptions.Parse(rest.ToArray());
        var device = new Device(o.Device);
        bool cudaDevice = device.type == DeviceType.CUDA;
        using var noGrad = no_grad();

        var config = o.Tiny ? FluxWorkload.Tiny() : FluxWorkload.Flux1Dev();
        var sw = Stopwatch.StartNew();
        FluxWorkload w;
        try
        {
            w = new FluxWorkload(device, o.DType, config, o.Height, o.Width, o.TextTokens);
            if (cudaDevice) cuda.synchronize(device);
        }
        catch (Exception e)
        {
            // Not a FLUXSKIP line: summarize.py would take it for a bench row.
            Console.WriteLine($"flux-profile-step: the workload could not be built on {o.Device}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            return 1;
        }
        using var workload = w;
        if (adapters > 0) w.EnsureAdapters(adapters, o.Rank);
        w.Component.ForwardMode = materialized ? LoraForwardMode.Materialized : LoraForwardMode.Unfused;
        double buildSeconds = sw.Elapsed.TotalSeconds;

        var inputs = w.Inputs;
        for (int i = 0; i < 3; i++) w.Step(inputs).Dispose();
        string range;
        int rc = 0;
        if (cudaDevice)
        {
            cuda.synchronize(device);
            int started = CudaProfilerRange.Start();
            w.Step(inputs).Dispose();
            cuda.synchronize(device);
            int stopped = CudaProfilerRange.Stop();
            range = $"cuProfilerStart {started}, cuProfilerStop {stopped}";
            rc = started == 0 && stopped == 0 ? 0 : 1;
        }
        else
        {
            w.Step(inputs).Dispose();
            range = $"no profiler range (device {o.Device} is not CUDA)";
        }
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"flux-profile-step: {(o.Tiny ? "TINY 2+2 blocks" : "FLUX.1-dev-sized 19+38 blocks")}, {adapters} adapter(s){(materialized ? " materialized" : "")}, rank {o.Rank}, {o.DType}, "
            + $"{o.Height}x{o.Width} ({w.ImageTokens} image tokens), {w.TextTokens} text tokens; built in {buildSeconds:F1} s; {range}"));
        return rc;
    }
}
