using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Gpu;
using TorchSharp;
using static BenchClock;
using static TorchSharp.torch;

/// <summary>
/// LoRA under CUDA graphs on the device (issue 10 items 3 and 4): the guide's order — <c>EnableLoraHotswap</c>, load,
/// pin, capture — then hotswap, <c>SetAdapters</c> weights, runtime scale, a per-step schedule, activation within the
/// pin and disable/enable, each followed by a replay that must equal the eager forward of the same pinned model bit
/// for bit (same kernels) and differ from the replay before (the change reached the graph); 0 recaptures and 0
/// reallocations (every tensor the pinned forward reads keeps its address); a plan change refused. The pipeline's
/// <c>UseCudaGraphs</c> equals its eager call. And, for graph-bench, a hotswap's time against a device memcpy.
/// </summary>
internal static partial class GraphCommands
{
    /// <summary>A capture over active LoRA adapters without a pin is refused (LoraException GraphNotPinned); the process captures again afterwards.</summary>
    private static int CheckUnpinnedCaptureRefused(string name, UNet2DConditionModel unet, Tensor[] inputs)
    {
        string outcome;
        bool ok;
        try
        {
            using var graph = CudaGraph.Capture(inputs, i => Step(unet, i), new CudaGraphOptions { WarmupRuns = 1 });
            outcome = "NOT REFUSED: an unpinned LoRA forward was captured (its scales would be frozen)";
            ok = false;
        }
        catch (LoraException e) when (e.Kind == LoraErrorKind.GraphNotPinned)
        {
            outcome = $"{e.Kind}: {FirstLine(e.Message)}";
            ok = !CudaGraph.IsCaptureUnderway;
        }
        Console.WriteLine($"CHECK\t{name}: capture refused\t{(ok ? "refused" : "UNEXPECTED")}\t{outcome}");
        return ok ? 0 : 1;
    }

    /// <summary>
    /// One pinned capture of <paramref name="unet"/>, then every change the pin allows, each checked on the next replay.
    /// <paramref name="active"/> are the active adapters (weights are set on them); <paramref name="hotswap"/> swaps new
    /// weights into the first of them.
    /// </summary>
    private static int CheckLoraUnderGraph(string name, UNet2DConditionModel unet, LoraComponent component, IReadOnlyList<string> active,
        Tensor[] inputs, Device device, CudaGraphRuntime runtime, (string What, Action Swap) hotswap)
    {
        int failures = 0;
        using var scope = NewDisposeScope();
        component.SetAdapters(active);
        var unpinned = Step(unet, inputs);
        using var pin = component.PinForGraphs();
        var pointers = Pointers(component, runtime);
        using var graph = CudaGraph.Capture(inputs, i => Step(unet, i));
        pin.Bind(graph);
        Tensor? previous = null;

        int Replay(string step, bool mustChange, string extra = "")
        {
            graph.Replay();
            var eager = Step(unet, inputs);
            cuda.synchronize(device);
            bool same = Same(graph.Output, eager);
            bool changed = previous is null || !Same(graph.Output, previous);
            bool ok = same && (!mustChange || changed);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CHECK\t{name}: {step}\t{(ok ? "bitwise" : "DIFFERS")}\treplay==eager {same} (max|d| {MaxAbs(graph.Output, eager):E2}); "
                + $"changed since the previous replay {changed}{(mustChange ? "" : " (not required)")}; captures {graph.CaptureCount}{extra}"));
            previous = graph.Output.clone();
            return ok ? 0 : 1;
        }

        failures += Replay($"captured, {component.ForwardMode}, pinned [{string.Join(", ", component.GraphPinnedAdapters)}]", false,
            string.Create(CultureInfo.InvariantCulture, $"; pinned vs unpinned eager max|d| {MaxAbs(graph.Output, unpinned):E2}"));

        long allocatedBefore = runtime.MemoryStats(device).Allocated;
        cuda.synchronize(device);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        hotswap.Swap();
        cuda.synchronize(device);
        double swapMs = sw.Elapsed.TotalMilliseconds;
        long allocatedDelta = runtime.MemoryStats(device).Allocated - allocatedBefore;
        failures += Replay($"first replay after hotswap ({hotswap.What})", true,
            string.Create(CultureInfo.InvariantCulture, $"; hotswap {swapMs:F2} ms, allocated bytes {allocatedDelta:+#;-#;0}"));

        component.SetAdapters(active, active.Select((_, k) => 0.55 + 0.3 * k).ToList());
        failures += Replay("SetAdapters weights", true);
        using (component.ApplyRuntimeScale(0.5))
            failures += Replay("runtime scale 0.5", true);
        failures += Replay("runtime scale restored", true);
        for (int k = 0; k < 4; k++)
        {
            double w = 1.0 - 0.25 * k;
            component.SetAdapters(active, active.Select(_ => w).ToList());
            failures += Replay(string.Create(CultureInfo.InvariantCulture, $"schedule step {k} (weight {w:F2})"), k > 0);
        }
        if (active.Count > 1)
        {
            component.SetAdapters(new[] { active[0] });
            failures += Replay($"only '{active[0]}' active (the others at scale 0)", true);
            component.SetAdapters(active);
        }
        component.DisableLora();
        failures += Replay("disabled", true);
        component.EnableLora();
        failures += Replay("enabled", true);

        string refusal;
        bool refused;
        try
        {
            component.FuseLora();
            refusal = "NOT REFUSED";
            refused = false;
        }
        catch (LoraException e) when (e.Kind == LoraErrorKind.GraphPinned)
        {
            refusal = $"{e.Kind}: {FirstLine(e.Message)}";
            refused = true;
        }
        failures += refused ? 0 : 1;
        failures += Replay($"after a refused FuseLora ({refusal})", false);

        var after = Pointers(component, runtime);
        int reallocations = pointers.Count(kv => !after.TryGetValue(kv.Key, out var p) || p != kv.Value);
        int recaptures = graph.CaptureCount - 1;
        bool countsOk = reallocations == 0 && recaptures == 0 && after.Count == pointers.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CHECK\t{name}: recaptures and reallocations\t{(countsOk ? "0 and 0" : "NONZERO")}\trecaptures {recaptures}, reallocations {reallocations} of {pointers.Count} tensors the pinned forward reads"));
        return failures + (countsOk ? 0 : 1);
    }

    /// <summary>The pipeline with UseCudaGraphs equals its eager call (the same pinned forward), across two calls and a step-end schedule, with one capture.</summary>
    private static int CheckPipelineGraphs(StableDiffusionXLPipeline pipe, Device device)
    {
        pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
        StableDiffusionXLCallOptions Options(bool graphs, StepEndCallback? callback = null) => new()
        {
            Prompt = "bears, pizza bites", NegativePrompt = "", NumInferenceSteps = 4, GuidanceScale = 5.0, Height = 64, Width = 64,
            Seed = 1000, OutputType = PipelineOutputType.Latent, UseCudaGraphs = graphs, CallbackOnStepEnd = callback,
        };
        StepEndCallback schedule = (p, step, t, kw) =>
        {
            p.SetAdapters(new[] { "a", "b" }, new[] { 0.7 - 0.15 * step, 0.8 });
            return kw;
        };
        int failures = 0;
        foreach (var (label, callback) in new (string, StepEndCallback?)[] { ("plain", null), ("step-end schedule", schedule) })
        {
            pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            using var graphed = pipe.Generate(Options(true, callback));
            pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            using var eager = pipe.Generate(Options(false, callback));
            cuda.synchronize(device);
            bool same = Same(graphed.Tensor, eager.Tensor);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CHECK\tpipeline UseCudaGraphs, {label}\t{(same ? "bitwise" : "DIFFERS")}\tgraphs vs eager (pinned) max|d| {MaxAbs(graphed.Tensor, eager.Tensor):E2}; "
                + $"graphs {pipe.UNetGraphs.Count}, captures {pipe.UNetGraphs.Captures}, recaptures {pipe.UNetGraphs.Recaptures}, replays {pipe.UNetGraphs.Replays}"));
            failures += same ? 0 : 1;
        }
        bool once = pipe.UNetGraphs.Captures == 1 && pipe.UNetGraphs.Recaptures == 0;
        Console.WriteLine($"CHECK\tpipeline UseCudaGraphs, one capture for two calls\t{(once ? "ok" : "UNEXPECTED")}\t{string.Join("; ", pipe.UNetGraphs.Keys)}");
        pipe.UNetGraphs.Clear();
        return failures + (once ? 0 : 1);
    }

    /// <summary>
    /// graph + hotswap: the hotswap's time (in-memory, device-resident weights; and from a file) against a device memcpy
    /// of the adapter's bytes (one copy, and one copy per factor tensor), with recaptures, reallocations and the first
    /// replay after a swap checked against eager.
    /// </summary>
    private static void HotswapTimings(string name, SdxlWorkload w, CudaGraph graph, LoraAdapterDefinition[] swaps, List<double> swapTimes,
        Device device, CudaGraphRuntime runtime, GraphOptions o)
    {
        using var scope = NewDisposeScope();
        long bytes = w.AdapterBytes(o.Rank);
        var src = empty(bytes, ScalarType.Byte, device);
        var dst = empty(bytes, ScalarType.Byte, device);
        double memcpy = Median(Time(() => dst.copy_(src), 10, device));
        var sources = swaps[0].Modules.SelectMany(m => new[] { m.A, m.B }).ToList();
        var targets = sources.Select(t => t.clone()).ToList();
        double perTensor = Median(Time(() =>
        {
            for (int i = 0; i < sources.Count; i++) targets[i].copy_(sources[i]);
        }, 10, device));

        var before = Pointers(w.Component, runtime);
        long allocated = runtime.MemoryStats(device).Allocated;
        w.Component.HotswapAdapter("a0", swaps[1]);
        cuda.synchronize(device);
        long allocatedDelta = runtime.MemoryStats(device).Allocated - allocated;
        var after = Pointers(w.Component, runtime);
        int reallocations = before.Count(kv => !after.TryGetValue(kv.Key, out var p) || p != kv.Value);
        graph.Replay();
        var eager = w.Step(w.Inputs);
        cuda.synchronize(device);
        bool first = Same(graph.Output, eager);

        // A hotswap staged ahead of time (StageHotswap: every check, the gathering and an image of the whole flat factor
        // tensor built before), then applied: ApplyHotswap alone is timed (synchronized before and after) — ONE device
        // copy of the image while nothing changed since staging. The image is the flat tensor (A, B and scaled B), more
        // bytes than the adapter's A and B: flat_memcpy_ms is one memcpy of exactly those bytes, the floor of the apply.
        double stagedMs, stageMs, flatMemcpy;
        long flatBytes;
        int stores;
        bool stagedFirst;
        var beforeStaged = Pointers(w.Component, runtime);
        {
            var stageTimes = Time(() => w.Component.StageHotswap("a0", swaps[0]).Dispose(), 3, device);
            stageMs = Median(stageTimes);
            using var s0 = w.Component.StageHotswap("a0", swaps[0]);
            using var s1 = w.Component.StageHotswap("a0", swaps[1]);
            flatBytes = w.Component.GetGraphPinnedTensors().Where(kv => kv.Key.StartsWith("factors@", StringComparison.Ordinal))
                .Sum(kv => kv.Value.numel() * kv.Value.ElementSize);
            using (var flatSrc = empty(flatBytes, ScalarType.Byte, device))
            using (var flatDst = empty(flatBytes, ScalarType.Byte, device))
                flatMemcpy = Median(Time(() => flatDst.copy_(flatSrc), 10, device));
            int n = 0;
            stagedMs = Median(Time(() => w.Component.ApplyHotswap(n++ % 2 == 0 ? s0 : s1), 10, device));
            w.Component.ApplyHotswap(s0);
            stores = w.Component.GetGraphPinnedTensors().Count(kv => kv.Key.StartsWith("factors@", StringComparison.Ordinal));
            graph.Replay();
            var eagerStaged = w.Step(w.Inputs);
            cuda.synchronize(device);
            stagedFirst = Same(graph.Output, eagerStaged);
        }
        var afterStaged = Pointers(w.Component, runtime);
        reallocations += beforeStaged.Count(kv => !afterStaged.TryGetValue(kv.Key, out var p) || p != kv.Value);

        string folder = Path.Combine(Path.GetTempPath(), "lorasdk-hotswap-" + Guid.NewGuid().ToString("N"));
        double fileMs;
        try
        {
            string file = w.Component.SaveLoraAdapter(folder, "a0");
            fileMs = Median(Time(() => w.Component.LoadLoraAdapter(file, null, "a0", hotswap: true), 3, device));
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
        double swapMs = Median(swapTimes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"HOTSWAP\tlorasdk\t{name}\thotswap_ms={swapMs:F3}\tmemcpy_ms={memcpy:F3}\tper_tensor_copy_ms={perTensor:F3}"
            + $"\thotswap_over_memcpy={swapMs / memcpy:F1}\thotswap_over_per_tensor_copy={swapMs / perTensor:F2}\tadapter_mib={bytes / 1048576.0:F1}"
            + $"\ttensors={sources.Count}\tfile_hotswap_ms={fileMs:F1}\trecaptures={graph.CaptureCount - 1}\treallocations={reallocations}"
            + $"\tallocated_delta_bytes={allocatedDelta}\tfirst_replay_equals_eager={first}"
            + $"\tstaged_apply_ms={stagedMs:F3}\tstaged_apply_over_memcpy={stagedMs / memcpy:F1}\tstage_ms={stageMs:F2}\tfactor_stores={stores}"
            + $"\tstaged_first_replay_equals_eager={stagedFirst}\tflat_mib={flatBytes / 1048576.0:F1}\tflat_memcpy_ms={flatMemcpy:F3}"
            + $"\tstaged_apply_over_flat_memcpy={stagedMs / flatMemcpy:F1}"));
    }

    /// <summary>The address of every tensor the component's pinned forward reads, by name.</summary>
    private static Dictionary<string, IntPtr> Pointers(LoraComponent component, CudaGraphRuntime runtime) =>
        component.GetGraphPinnedTensors().ToDictionary(kv => kv.Key, kv => runtime.DataPointer(kv.Value), StringComparer.Ordinal);
}
