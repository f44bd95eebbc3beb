using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using static BenchClock;
using static TorchSharp.torch;

/// <summary>
/// CUDA-graph commands of the GPU bench (issue 10):
/// <c>graph-check</c> — graph output equals eager output bitwise (tiny prompt UNet fp32: base, lora_a, lora_a+lora_b
/// with weights, LoRA pinned for graphs; two shapes sharing one pool; SDXL-sized fp16 base and rank-32 adapters), a
/// capture that synchronises or runs unpinned LoRA fails with a typed error and leaves the process able to capture
/// again, and LoRA under graphs (GraphLoraChecks.cs: hotswap, weights, runtime scale, schedule, disable/enable reach
/// the next replay with 0 recaptures and 0 reallocations; the pipeline's UseCudaGraphs equals its eager call);
/// <c>graph-bench</c> — eager vs graph UNet step times (interleaved rounds; graphs run the pinned LoRA forward), peak
/// memory, an eager-step profile (kernels per step from the captured graph, host enqueue time per kernel, GPU idle
/// estimate), 1/2/4 adapters under a graph, and graph + hotswap with the hotswap's time against a device memcpy.
/// Machine-readable lines start with RESULT / PROFILE / CHECK / HOTSWAP (tab-separated) for benchmarks/gpu/summarize.py.
/// </summary>
internal static partial class GraphCommands
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
            "graph-check" => Check(o, device, runtime),
            "graph-bench" => Bench(o, device, runtime),
            _ => throw new ArgumentException($"unknown command {command}"),
        };
    }

    // ------------------------------------------------------------------ graph-check

    private static int Check(GraphOptions o, Device device, CudaGraphRuntime runtime)
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
            string loras = Path.Combine(repo, "tests", "fixtures", "loras");
            lora.EnableLoraHotswap(8);
            lora.LoadLoraWeights(Path.Combine(loras, "lora_a.safetensors"), "a");
            using (lora.PinForGraphs())
                failures += CheckCase("tiny fp32 lora_a (pinned, padded to rank 8)", unet, inputs.All, device);
            lora.LoadLoraWeights(Path.Combine(loras, "lora_b.safetensors"), "b");
            lora.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            failures += CheckUnpinnedCaptureRefused("tiny fp32 lora_a+lora_b unpinned", unet, inputs.All);
            using var pin = lora.PinForGraphs();
            failures += CheckCase("tiny fp32 lora_a+lora_b (0.7, 0.8, pinned)", unet, inputs.All, device);

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
            pin.Dispose();

            // LoRA under graphs (issue 10 item 3): one capture, then a hotswap from a file (lora_c, rank 2, into the
            // rank-8 storage of 'a'), weights, runtime scale, a schedule, disable/enable — each replay equals eager.
            failures += CheckLoraUnderGraph("tiny fp32 a+b", unet, lora["unet"], new[] { "a", "b" }, inputs.All, device, runtime,
                ("lora_c file into a", () => lora.LoadLoraWeights(Path.Combine(loras, "lora_c.safetensors"), "a", hotswap: true)));
            failures += CheckPipelineGraphs(pipe, device);
        }

        using (var w = new SdxlWorkload(device, o.DType, o.Latent, hotswapRank: o.Rank))
        {
            failures += CheckCase($"SDXL {o.DType} latent {o.Latent} base", w.Unet, w.Inputs, device);
            w.EnsureAdapters(2, o.Rank);
            w.Component.ForwardMode = LoraForwardMode.Unfused;
            using (w.Component.PinForGraphs())
                failures += CheckCase($"SDXL {o.DType} latent {o.Latent} 2 adapters rank {o.Rank} (pinned)", w.Unet, w.Inputs, device);
            // Each check swaps in weights the adapter has not held yet, so the first replay after the swap must change.
            int CheckSdxl(string what, IReadOnlyList<string> active, long seed)
            {
                var swap = w.RandomAdapter(seed, o.Rank);
                try
                {
                    return CheckLoraUnderGraph($"SDXL {o.DType} {what}", w.Unet, w.Component, active, w.Inputs, device, runtime,
                        ($"in-memory rank-{o.Rank} adapter into a0", () => w.Component.HotswapAdapter("a0", swap)));
                }
                finally
                {
                    SdxlWorkload.Free(swap);
                }
            }
            failures += CheckSdxl("2 adapters", new[] { "a0", "a1" }, 900);
            w.EnsureAdapters(1, o.Rank);
            failures += CheckSdxl("1 adapter", new[] { "a0" }, 901);
            w.Component.ForwardMode = LoraForwardMode.Materialized;
            failures += CheckSdxl("1 adapter materialized", new[] { "a0" }, 902);
            w.Component.ForwardMode = LoraForwardMode.Unfused;
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
        // EnableLoraHotswap(rank) before the first adapter (the guide's order); at the adapters' own rank it pads nothing.
        using var w = new SdxlWorkload(device, o.DType, o.Latent, hotswapRank: o.Rank);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SDXL-base UNet step, {o.DType}, CFG batch 2, latent {o.Latent} ({o.Latent * 8}px), {w.Layers.Count} adapted layers, rank {o.Rank}; "
            + $"{o.Rounds} interleaved rounds of {o.Iterations} steps per mode"));
        var configs = new (string Name, int Adapters, LoraForwardMode Mode, bool Hotswap)[]
        {
            ("base", 0, LoraForwardMode.Unfused, false),
            ("1 adapter unfused", 1, LoraForwardMode.Unfused, false),
            ("2 adapters unfused", 2, LoraForwardMode.Unfused, false),
            ("4 adapters unfused", 4, LoraForwardMode.Unfused, false),
            ("1 adapter materialized", 1, LoraForwardMode.Materialized, false),
            ("1 adapter graph+hotswap", 1, LoraForwardMode.Unfused, true),
        };
        foreach (var (name, adapters, mode, hotswap) in configs)
        {
            if (o.Only is not null && !o.Only.Contains(name, StringComparer.Ordinal)) continue;
            if (adapters == 0) w.Component.SetAdapter(Array.Empty<string>());
            else w.EnsureAdapters(adapters, o.Rank);
            w.Component.ForwardMode = mode;
            BenchConfig(name, w, device, runtime, o, hotswap);
        }
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        return 0;
    }

    private static void BenchConfig(string name, SdxlWorkload w, Device device, CudaGraphRuntime runtime, GraphOptions o, bool hotswap)
    {
        var inputs = w.Inputs;
        for (int i = 0; i < 3; i++) Discard(w.Step(inputs));
        cuda.synchronize(device);

        // Eager first, with the engine's default (unpinned) forward: its steps, footprint and profile.
        var eager = new List<double>();
        for (int r = 0; r < o.Rounds; r++) eager.AddRange(Time(() => Discard(w.Step(inputs)), o.Iterations, device));
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

        // Graphs run the pinned (graph-stable) LoRA forward: pin, capture, then replays interleaved with eager steps of
        // the same pinned forward (the graph's eager twin).
        using var pin = w.Component.PinForGraphs();
        using var graph = CudaGraph.Capture(inputs, w.Step);
        pin.Bind(graph);
        // The graph's footprint: what the allocator holds right after the capture (the capture emptied the cache
        // first), i.e. weights, static tensors and the graph's private pool.
        var afterCapture = runtime.MemoryStats(device);

        LoraAdapterDefinition[] swaps = hotswap ? new[] { w.RandomAdapter(700, o.Rank), w.RandomAdapter(701, o.Rank) } : Array.Empty<LoraAdapterDefinition>();
        var eagerPinned = new List<double>();
        var replay = new List<double>();
        var swapTimes = new List<double>();
        try
        {
            for (int r = 0; r < o.Rounds; r++)
            {
                eagerPinned.AddRange(Time(() => Discard(w.Step(inputs)), o.Iterations, device));
                if (!hotswap)
                {
                    replay.AddRange(Time(graph.Replay, o.Iterations, device));
                    continue;
                }
                for (int i = 0; i < o.Iterations; i++)
                {
                    // graph + hotswap: a different adapter swapped in before every replay (timed apart).
                    swapTimes.AddRange(Time(() => w.Component.HotswapAdapter("a0", swaps[(r * o.Iterations + i) % 2]), 1, device));
                    replay.AddRange(Time(graph.Replay, 1, device));
                }
            }

            graph.Replay();
            using var eagerOut = w.Step(inputs);
            cuda.synchronize(device);
            bool same = Same(graph.Output, eagerOut);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT\tlorasdk\t{name}\teager\t{Median(eager):F2}\t{eager.Min():F2}\t{eager.Count}\t{Mib(eagerMemory.PeakAllocated):F0}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT\tlorasdk\t{name}\tgraph\t{Median(replay):F2}\t{replay.Min():F2}\t{replay.Count}\t{Mib(afterCapture.Reserved):F0}"));
            double enqueueMs = Median(enqueue), stepMs = Median(whole), graphMs = Median(replay);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PROFILE\tlorasdk\t{name}\tkernels={graph.KernelCount}\tnodes={graph.NodeCount}\tenqueue_ms={enqueueMs:F2}\tstep_ms={stepMs:F2}\tgraph_ms={graphMs:F2}"
                + $"\thost_us_per_kernel={(graph.KernelCount > 0 ? enqueueMs * 1000 / graph.KernelCount : double.NaN):F1}\tgpu_idle_ms~{Math.Max(0, stepMs - graphMs):F2}"
                + $"\teager_pinned_ms={Median(eagerPinned):F2}\tgraph_equals_eager={same}"));
            if (hotswap) HotswapTimings(name, w, graph, swaps, swapTimes, device, runtime, o);
        }
        finally
        {
            foreach (var s in swaps) SdxlWorkload.Free(s);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Tensor Step(UNet2DConditionModel unet, IReadOnlyList<Tensor> i) => unet.Forward(i[0], i[1], i[2], i[3], i[4]);

    private static void Discard(Tensor t) => t.Dispose();

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
