using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// CUDA-graph commands of the GPU bench (issue 10):
/// <c>graph-check</c> — graph output equals eager output bitwise (tiny prompt UNet fp32: base, lora_a, lora_a+lora_b
/// with weights; two shapes sharing one pool; SDXL-sized fp16 base and one rank-32 adapter), and a capture that
/// synchronises fails with a typed error and leaves the process able to capture again;
/// <c>graph-bench</c> — eager vs graph UNet step times (interleaved rounds), peak memory, and an eager-step profile
/// (kernels per step from the captured graph, host enqueue time per kernel, GPU idle estimate).
/// Machine-readable lines start with RESULT / PROFILE / CHECK (tab-separated) for benchmarks/gpu/summarize.py.
/// </summary>
internal static class GraphCommands
{
    public static readonly string[] Names = { "graph-check", "graph-bench" };

    public static int Run(string command, string[] args)
    {
        var o = GraphOptions.Parse(args);
        var device = new Device(o.Device);
        var runtime = CudaGraphRuntime.Load();
        Console.WriteLine($"graph library {runtime.LibraryPath}: built against libtorch {runtime.BuildTorchVersion} (CUDA {runtime.BuildCudaVersion}), "
            + $"running libtorch {runtime.RuntimeTorchVersion}; node counts: {runtime.CanCountNodes}");
        using var noGrad = no_grad();
        return command switch
        {
            "graph-check" => Check(o, device),
            "graph-bench" => Bench(o, device, runtime),
            _ => throw new ArgumentException($"unknown command {command}"),
        };
    }

    // ------------------------------------------------------------------ graph-check

    private static int Check(GraphOptions o, Device device)
    {
        int failures = 0;
        string repo = o.Repo ?? RepoFinder.Find();
        using (var pipe = StableDiffusionXLPipeline.FromPretrained(Path.Combine(repo, "models", "tiny-sdxl-prompt"),
                   new ModelLoadOptions { DType = ScalarType.Float32, Device = device }))
        {
            var unet = pipe.Unet;
            using var inputs = new TinyInputs(unet, device, latent: 16);
            failures += CheckCase("tiny fp32 base", unet, inputs.All, device);
            var lora = pipe.Lora;
            lora.LoadLoraWeights(Path.Combine(repo, "tests", "fixtures", "loras", "lora_a.safetensors"), "a");
            failures += CheckCase("tiny fp32 lora_a (unfused)", unet, inputs.All, device);
            lora.LoadLoraWeights(Path.Combine(repo, "tests", "fixtures", "loras", "lora_b.safetensors"), "b");
            lora.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            failures += CheckCase("tiny fp32 lora_a+lora_b (0.7, 0.8)", unet, inputs.All, device);

            // Two shapes sharing one pool, replayed in turn.
            using var larger = new TinyInputs(unet, device, latent: 24);
            var pool = CudaGraphPool.Create(device);
            using var g16 = CudaGraph.Capture(inputs.All, i => Step(unet, i), new CudaGraphOptions { Pool = pool });
            using var g24 = CudaGraph.Capture(larger.All, i => Step(unet, i), new CudaGraphOptions { Pool = pool });
            g16.Replay();
            using var out16 = g16.Output.clone();
            g24.Replay();
            using var out24 = g24.Output.clone();
            using var eager16 = Step(unet, inputs.All);
            using var eager24 = Step(unet, larger.All);
            bool shared = Same(out16, eager16) && Same(out24, eager24);
            Report("tiny fp32 two shapes, one shared pool", shared, MaxAbs(out16, eager16) + MaxAbs(out24, eager24), g16.KernelCount);
            failures += shared ? 0 : 1;

            // A capture that reads a value on the host is refused with a typed error; the process captures again afterwards.
            string refused;
            try
            {
                using var bad = CudaGraph.Capture(inputs.All, i => Step(unet, i) * Step(unet, i).mean().item<float>(),
                    new CudaGraphOptions { WarmupRuns = 1 });
                refused = "NOT REFUSED";
                failures++;
            }
            catch (CudaGraphException e)
            {
                refused = $"{e.Kind}: {FirstLine(e.Message)}";
            }
            Console.WriteLine($"CHECK\tsync-in-capture\t{(refused.StartsWith("CaptureFailed", StringComparison.Ordinal) ? "refused" : "UNEXPECTED")}\t{refused}");
            failures += CheckCase("tiny fp32 lora_a+lora_b after a refused capture", unet, inputs.All, device);
        }

        using (var w = new SdxlWorkload(device, o.DType, o.Latent))
        {
            failures += CheckCase($"SDXL {o.DType} latent {o.Latent} base", w.Unet, w.Inputs, device);
            w.EnsureAdapters(1, o.Rank);
            w.Component.ForwardMode = LoraForwardMode.Unfused;
            failures += CheckCase($"SDXL {o.DType} latent {o.Latent} 1 adapter rank {o.Rank} (unfused)", w.Unet, w.Inputs, device);
        }
        Console.WriteLine(failures == 0 ? "graph-check: all graph outputs equal eager outputs bitwise" : $"graph-check: {failures} check(s) FAILED");
        return failures == 0 ? 0 : 1;
    }

    // Eager twice (a control: is eager itself deterministic?), capture, replay; then new input values, eager vs replay.
    private static int CheckCase(string name, UNet2DConditionModel unet, Tensor[] inputs, Device device)
    {
        using var scope = NewDisposeScope();
        // The graph's static inputs alias `inputs`: keep the original values to restore them (and to check a replay
        // of restored inputs) after the new-values replay.
        var originals = inputs.Select(t => t.clone()).ToArray();
        var eager1 = Step(unet, inputs);
        var eager2 = Step(unet, inputs);
        bool eagerDeterministic = Same(eager1, eager2);
        using var graph = CudaGraph.Capture(inputs, i => Step(unet, i));
        graph.Replay();
        cuda.synchronize(device);
        bool first = Same(graph.Output, eager1);
        double firstDiff = MaxAbs(graph.Output, eager1);

        var fresh = inputs.Select(t => t.is_floating_point() && t.Dimensions > 0 && t.shape[^1] != 6 ? randn_like(t) : t.clone()).ToArray();
        fresh[1] = full_like(inputs[1], 321.5);
        var eager3 = Step(unet, fresh);
        graph.Replay(fresh);
        cuda.synchronize(device);
        bool second = Same(graph.Output, eager3);
        double secondDiff = MaxAbs(graph.Output, eager3);
        graph.Replay(originals);
        cuda.synchronize(device);
        bool third = Same(graph.Output, eager1);

        bool ok = first && second && third;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CHECK\t{name}\t{(ok ? "bitwise" : "DIFFERS")}\tnodes {graph.NodeCount}, kernels {graph.KernelCount}; eager==eager {eagerDeterministic}; "
            + $"graph==eager {first} (max|d| {firstDiff:E2}); new inputs {second} (max|d| {secondDiff:E2}); inputs restored {third}"));
        return ok ? 0 : 1;
    }

    // ------------------------------------------------------------------ graph-bench

    private static int Bench(GraphOptions o, Device device, CudaGraphRuntime runtime)
    {
        using var w = new SdxlWorkload(device, o.DType, o.Latent);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SDXL-base UNet step, {o.DType}, CFG batch 2, latent {o.Latent} ({o.Latent * 8}px), {w.Layers.Count} adapted layers, rank {o.Rank}; "
            + $"{o.Rounds} interleaved rounds of {o.Iterations} steps per mode"));
        var configs = new (string Name, int Adapters, LoraForwardMode Mode)[]
        {
            ("base", 0, LoraForwardMode.Unfused),
            ("1 adapter unfused", 1, LoraForwardMode.Unfused),
            ("4 adapters unfused", 4, LoraForwardMode.Unfused),
            ("1 adapter materialized", 1, LoraForwardMode.Materialized),
        };
        foreach (var (name, adapters, mode) in configs)
        {
            if (o.Only is not null && !o.Only.Contains(name, StringComparer.Ordinal)) continue;
            if (adapters == 0) w.Component.SetAdapter(Array.Empty<string>());
            else w.EnsureAdapters(adapters, o.Rank);
            w.Component.ForwardMode = mode;
            BenchConfig(name, w, device, runtime, o);
        }
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        return 0;
    }

    private static void BenchConfig(string name, SdxlWorkload w, Device device, CudaGraphRuntime runtime, GraphOptions o)
    {
        var inputs = w.Inputs;
        for (int i = 0; i < 3; i++) Discard(w.Step(inputs));
        cuda.synchronize(device);

        using var graph = CudaGraph.Capture(inputs, w.Step);
        // The graph's footprint: what the allocator holds right after the capture (the capture emptied the cache
        // first), i.e. weights, static tensors and the graph's private pool.
        var afterCapture = runtime.MemoryStats(device);

        var eager = new List<double>();
        var replay = new List<double>();
        for (int r = 0; r < o.Rounds; r++)
        {
            eager.AddRange(Time(() => Discard(w.Step(inputs)), o.Iterations, device));
            replay.AddRange(Time(graph.Replay, o.Iterations, device));
        }
        // Eager's footprint: the peak of live tensors over two steps (weights, static tensors, activations).
        runtime.ResetPeakMemory(device);
        Time(() => Discard(w.Step(inputs)), 2, device);
        var eagerMemory = runtime.MemoryStats(device);

        // Profile of one eager step: host enqueue time (no synchronisation until the step is issued) vs the whole step.
        var enqueue = new List<double>();
        var whole = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            cuda.synchronize(device);
            var sw = Stopwatch.StartNew();
            var y = w.Step(inputs);
            double issued = sw.Elapsed.TotalMilliseconds;
            cuda.synchronize(device);
            whole.Add(sw.Elapsed.TotalMilliseconds);
            enqueue.Add(issued);
            y.Dispose();
        }

        graph.Replay();
        using var eagerOut = w.Step(inputs);
        cuda.synchronize(device);
        bool same = Same(graph.Output, eagerOut);

        double Mib(long bytes) => bytes / (1024.0 * 1024.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT\tlorasdk\t{name}\teager\t{Median(eager):F2}\t{eager.Min():F2}\t{eager.Count}\t{Mib(eagerMemory.PeakAllocated):F0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT\tlorasdk\t{name}\tgraph\t{Median(replay):F2}\t{replay.Min():F2}\t{replay.Count}\t{Mib(afterCapture.Reserved):F0}"));
        double enqueueMs = Median(enqueue), stepMs = Median(whole), graphMs = Median(replay);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PROFILE\tlorasdk\t{name}\tkernels={graph.KernelCount}\tnodes={graph.NodeCount}\tenqueue_ms={enqueueMs:F2}\tstep_ms={stepMs:F2}\tgraph_ms={graphMs:F2}"
            + $"\thost_us_per_kernel={(graph.KernelCount > 0 ? enqueueMs * 1000 / graph.KernelCount : double.NaN):F1}\tgpu_idle_ms~{Math.Max(0, stepMs - graphMs):F2}\tgraph_equals_eager={same}"));
    }

    // ------------------------------------------------------------------ helpers

    private static Tensor Step(UNet2DConditionModel unet, IReadOnlyList<Tensor> i) => unet.Forward(i[0], i[1], i[2], i[3], i[4]);

    private static void Discard(Tensor t) => t.Dispose();

    private static List<double> Time(Action step, int iterations, Device device)
    {
        var times = new List<double>(iterations);
        for (int i = 0; i < iterations; i++)
        {
            cuda.synchronize(device);
            var sw = Stopwatch.StartNew();
            step();
            cuda.synchronize(device);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    private static double MaxAbs(Tensor a, Tensor b)
    {
        using var d = (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max();
        return d.item<double>();
    }

    private static void Report(string name, bool ok, double diff, long kernels) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CHECK\t{name}\t{(ok ? "bitwise" : "DIFFERS")}\tmax|d| {diff:E2}, kernels {kernels}"));

    private static string FirstLine(string s) => s.Split('\n')[0];

    /// <summary>Random static inputs for the tiny prompt UNet (CFG batch 2).</summary>
    private sealed class TinyInputs : IDisposable
    {
        public TinyInputs(UNet2DConditionModel unet, Device device, int latent)
        {
            var c = unet.Config;
            long pooled = (c.ProjectionClassEmbeddingsInputDim ?? 0) - 6L * (c.AdditionTimeEmbedDim ?? 0);
            manual_seed(7 + latent);
            All = new[]
            {
                randn(new long[] { 2, c.InChannels, latent, latent }, ScalarType.Float32, device),
                tensor(811f).to(device),
                randn(new long[] { 2, 77, c.CrossAttentionDim[0] }, ScalarType.Float32, device),
                randn(new long[] { 2, pooled }, ScalarType.Float32, device),
                tensor(new float[] { 128, 128, 0, 0, 128, 128, 128, 128, 0, 0, 128, 128 }, new long[] { 2, 6 }).to(device),
            };
        }

        public Tensor[] All { get; }

        public void Dispose()
        {
            foreach (var t in All) t.Dispose();
        }
    }
}

internal sealed class GraphOptions
{
    public string Device { get; private set; } = "cuda";
    public ScalarType DType { get; private set; } = ScalarType.Float16;
    public int Latent { get; private set; } = 128;
    public int Iterations { get; private set; } = 10;
    public int Rounds { get; private set; } = 3;
    public int Rank { get; private set; } = 32;
    public string? Repo { get; private set; }
    public string[]? Only { get; private set; }

    public static GraphOptions Parse(string[] args)
    {
        var o = new GraphOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--device": o.Device = Next(); break;
                case "--dtype": o.DType = Next() switch
                {
                    "float16" or "fp16" => ScalarType.Float16, "bfloat16" or "bf16" => ScalarType.BFloat16,
                    "float32" or "fp32" => ScalarType.Float32, var s => throw new ArgumentException($"unknown dtype {s}"),
                }; break;
                case "--latent": o.Latent = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--iterations": o.Iterations = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rank": o.Rank = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repo": o.Repo = Next(); break;
                case "--only": o.Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return o;
    }
}
