using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using LoraSdk.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using static BenchClock;
using static TorchSharp.torch;

/// <summary>
/// <c>flux-bench [--device cuda] [--dtype bf16] [--iterations 10] [--rounds 2] [--rank 16] [--height 1024]
/// [--width 1024] [--text-tokens 512] [--only base,...] [--no-graph] [--tiny]</c>: one FLUX.1-dev-sized transformer
/// forward (<see cref="FluxWorkload"/>) per step, next to benchmarks/gpu/diffusers_flux_bench.py (issue 13, GPU).
/// Rows: base, 1 adapter unfused, 4 adapters unfused, 4 adapters materialized (eager); base and 1 adapter also as a
/// CUDA graph (LoRA pinned for graphs) when the graph library loads and the capture succeeds — otherwise the graph
/// row is reported unsupported with the reason and the run goes on. <c>--tiny</c> is a CPU smoke run of the same
/// code on a 2+2-block model (defaults: --device cpu, 128×128, 16 text tokens).
/// Machine-readable lines for benchmarks/gpu/summarize.py (tab-separated):
///   FLUX       lorasdk  &lt;row&gt;  eager|graph  &lt;median ms&gt;  &lt;min ms&gt;  &lt;n&gt;  &lt;MiB: eager peak allocated over two steps | graph reserved after capture; -1 unknown&gt;
///   FLUXSKIP   lorasdk  &lt;row&gt;  eager|graph  &lt;reason&gt;
///   FLUXCHECK  lorasdk  &lt;row&gt;  graph==eager bitwise or not
/// </summary>
internal static class FluxBenchCommand
{
    public const string Name = "flux-bench";

    public static readonly string[] Rows = { "base", "1 adapter unfused", "4 adapters unfused", "4 adapters materialized" };

    private static readonly string[] GraphRows = { "base", "1 adapter unfused" };

    public static int Run(string[] args)
    {
        var o = FluxOptions.Parse(args);
        var device = new Device(o.Device);
        using var noGrad = no_grad();

        // The graph library also reads the caching allocator's statistics; without it, memory is reported as -1.
        CudaGraphRuntime? runtime = null;
        string? runtimeError = null;
        if (device.type == DeviceType.CUDA)
        {
            try
            {
                runtime = CudaGraphRuntime.Load();
            }
            catch (Exception e)
            {
                runtimeError = $"{e.GetType().Name}: {FirstLine(e.Message)}";
            }
        }
        else
        {
            runtimeError = $"device {o.Device} is not CUDA";
        }

        var config = o.Tiny ? FluxWorkload.Tiny() : FluxWorkload.Flux1Dev();
        var sw = Stopwatch.StartNew();
        FluxWorkload w;
        try
        {
            w = new FluxWorkload(device, o.DType, config, o.Height, o.Width, o.TextTokens);
            Sync(device);
        }
        catch (Exception e)
        {
            // No model (no CUDA, out of memory, ...): one line for the report instead of a stack trace.
            Console.WriteLine($"FLUXSKIP\tlorasdk\tall\tall\tthe workload could not be built on {o.Device}: {e.GetType().Name}: {FirstLine(e.Message)}");
            return 1;
        }
        using var workload = w;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Flux transformer step (LoraSdk), {(o.Tiny ? "TINY 2+2 blocks" : "FLUX.1-dev-sized 19+38 blocks")}, {w.ParameterCount:N0} parameters, {o.DType}, "
            + $"batch 1, {o.Height}x{o.Width} ({w.ImageTokens} image tokens), {w.TextTokens} text tokens, {w.Layers.Count} adapted layers, rank {o.Rank}; "
            + $"{o.Rounds} rounds of {o.Iterations} steps per mode; built and initialised on {o.Device} in {sw.Elapsed.TotalSeconds:F1} s"));
        if (runtimeError is not null) Console.WriteLine($"graph library unavailable ({runtimeError}): graph rows unsupported, memory -1");

        foreach (string row in Rows)
        {
            if (o.Only is not null && !o.Only.Contains(row, StringComparer.Ordinal)) continue;
            try
            {
                (int adapters, var mode) = row switch
                {
                    "base" => (0, LoraForwardMode.Unfused),
                    "1 adapter unfused" => (1, LoraForwardMode.Unfused),
                    "4 adapters unfused" => (4, LoraForwardMode.Unfused),
                    _ => (4, LoraForwardMode.Materialized),
                };
                w.Component.ForwardMode = LoraForwardMode.Unfused;
                if (adapters == 0) w.Component.SetAdapter(Array.Empty<string>());
                else w.EnsureAdapters(adapters, o.Rank);
                w.Component.ForwardMode = mode;
                BenchRow(row, w, device, runtime, runtimeError, o);
            }
            catch (Exception e)
            {
                // A failing row (out of memory, ...) is reported and the next row runs.
                Console.WriteLine($"FLUXSKIP\tlorasdk\t{row}\teager\t{e.GetType().Name}: {FirstLine(e.Message)}");
            }
        }
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        return 0;
    }

    private static void BenchRow(string row, FluxWorkload w, Device device, CudaGraphRuntime? runtime, string? runtimeError, FluxOptions o)
    {
        var inputs = w.Inputs;
        for (int i = 0; i < 3; i++) w.Step(inputs).Dispose();
        Sync(device);
        var eager = new List<double>();
        for (int r = 0; r < o.Rounds; r++) eager.AddRange(Time(() => w.Step(inputs).Dispose(), o.Iterations, device));
        double eagerMib = -1;
        if (runtime is not null)
        {
            runtime.ResetPeakMemory(device);
            Time(() => w.Step(inputs).Dispose(), 2, device);
            eagerMib = Mib(runtime.MemoryStats(device).PeakAllocated);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FLUX\tlorasdk\t{row}\teager\t{Median(eager):F2}\t{eager.Min():F2}\t{eager.Count}\t{eagerMib:F0}"));

        if (!GraphRows.Contains(row, StringComparer.Ordinal) || o.NoGraph) return;
        if (runtime is null)
        {
            Console.WriteLine($"FLUXSKIP\tlorasdk\t{row}\tgraph\t{runtimeError}");
            return;
        }
        try
        {
            using var pin = w.Component.PinForGraphs();
            using var graph = CudaGraph.Capture(inputs, w.Step);
            pin.Bind(graph);
            double graphMib = Mib(runtime.MemoryStats(device).Reserved);
            var replay = new List<double>();
            for (int r = 0; r < o.Rounds; r++) replay.AddRange(Time(graph.Replay, o.Iterations, device));
            graph.Replay();
            using var eagerOut = w.Step(inputs);
            Sync(device);
            bool same = Same(graph.Output, eagerOut);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FLUX\tlorasdk\t{row}\tgraph\t{Median(replay):F2}\t{replay.Min():F2}\t{replay.Count}\t{graphMib:F0}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FLUXCHECK\tlorasdk\t{row}\t{(same ? "bitwise" : "DIFFERS")}\tgraph replay vs eager step of the pinned forward; kernels {graph.KernelCount}, nodes {graph.NodeCount}; "
                + $"output finite: {Finite(eagerOut)}"));
        }
        catch (Exception e)
        {
            Console.WriteLine($"FLUXSKIP\tlorasdk\t{row}\tgraph\t{e.GetType().Name}: {FirstLine(e.Message)}");
        }
    }

    // Bitwise equality, NaN equal to NaN (random weights may overflow somewhere; the comparison is about the kernels).
    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = NewDisposeScope();
        return (a.eq(b) | (a.isnan() & b.isnan())).all().item<bool>();
    }

    private static bool Finite(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.isfinite().all().item<bool>();
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Replace('\t', ' ');
}

internal sealed class FluxOptions
{
    public string Device { get; private set; } = "cuda";
    public ScalarType DType { get; private set; } = ScalarType.BFloat16;
    public int Iterations { get; private set; } = 10;
    public int Rounds { get; private set; } = 2;
    public int Rank { get; private set; } = 16;
    public int Height { get; private set; } = 1024;
    public int Width { get; private set; } = 1024;
    public int TextTokens { get; private set; } = 512;
    public bool Tiny { get; private set; }
    public bool NoGraph { get; private set; }
    public string[]? Only { get; private set; }

    public static FluxOptions Parse(string[] args)
    {
        var o = new FluxOptions();
        if (args.Contains("--tiny"))
        {
            o.Tiny = true;
            o.Device = "cpu";
            o.Height = o.Width = 128;
            o.TextTokens = 16;
            o.Iterations = 2;
            o.Rounds = 1;
            o.Rank = 4;
        }
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--tiny": break;
                case "--device": o.Device = Next(); break;
                case "--dtype": o.DType = Next() switch
                {
                    "float16" or "fp16" => ScalarType.Float16, "bfloat16" or "bf16" => ScalarType.BFloat16,
                    "float32" or "fp32" => ScalarType.Float32, var s => throw new ArgumentException($"unknown dtype {s}"),
                }; break;
                case "--iterations": o.Iterations = NextInt(); break;
                case "--rounds": o.Rounds = NextInt(); break;
                case "--rank": o.Rank = NextInt(); break;
                case "--height": o.Height = NextInt(); break;
                case "--width": o.Width = NextInt(); break;
                case "--text-tokens": o.TextTokens = NextInt(); break;
                case "--no-graph": o.NoGraph = true; break;
                case "--only": o.Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (o.Height % 16 != 0 || o.Width % 16 != 0) throw new ArgumentException("--height and --width must be multiples of 16");
        if (o.Iterations < 1 || o.Rounds < 1 || o.Rank < 1 || o.TextTokens < 1) throw new ArgumentException("--iterations, --rounds, --rank and --text-tokens must be positive");
        return o;
    }
}
