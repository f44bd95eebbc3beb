using System;
using System.Collections.Generic;
using LoraSdk.Gpu;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>
/// A CPU stand-in for the native CUDA-graph library: it records the calls <see cref="CudaGraph"/> makes and emulates a
/// replay by running the captured function again (<see cref="ICudaGraphBackend.EmulatesReplay"/>), so code that
/// captures and replays graphs — the pipeline's <see cref="LoraSdk.Diffusion.Pipelines.UNetGraphCache"/> — runs on a CPU-only machine
/// with real numbers. CPU tensors count as tensors of CUDA device 0. The native side is tested on a GPU by
/// benchmarks/gpu/device-run.sh.
/// </summary>
internal sealed class EmulatedGraphBackend : ICudaGraphBackend
{
    private readonly HashSet<IntPtr> _live = new();
    private long _next = 0x1000;

    public List<string> Calls { get; } = new();

    public int LiveGraphs => _live.Count;

    public bool EmulatesReplay => true;

    public int DeviceCount => 1;

    public int? DeviceOf(Tensor tensor) => 0;

    public (ulong First, ulong Second) NewPoolId() => (0, 77);

    public IntPtr CreateGraph(int deviceIndex)
    {
        Calls.Add("create");
        var g = new IntPtr(_next++);
        _live.Add(g);
        return g;
    }

    public void WarmupBegin(IntPtr graph) => Record("warmup_begin", graph);

    public void WarmupEnd(IntPtr graph) => Record("warmup_end", graph);

    public void CaptureBegin(IntPtr graph, ulong poolFirst, ulong poolSecond, CudaGraphCaptureMode mode) =>
        Record($"capture_begin({poolFirst},{poolSecond})", graph);

    public (long Nodes, long Kernels) CaptureEnd(IntPtr graph)
    {
        Record("capture_end", graph);
        return (-1, -1);
    }

    public void CaptureAbort(IntPtr graph) => Record("capture_abort", graph);

    public void Replay(IntPtr graph) => Record("replay", graph);

    public void Reset(IntPtr graph) => Record("reset", graph);

    public (ulong First, ulong Second) GraphPool(IntPtr graph) => (5, 0);

    public void Destroy(IntPtr graph)
    {
        Record("destroy", graph);
        _live.Remove(graph);
    }

    /// <summary>How a pipeline uses it: <c>pipe.UNetGraphs.CaptureOverride = backend.Capture</c>.</summary>
    public CudaGraph Capture(IReadOnlyList<Tensor> inputs, Func<IReadOnlyList<Tensor>, Tensor> body, CudaGraphOptions options) =>
        CudaGraph.CaptureWith(this, inputs, i => new[] { body(i) }, options);

    private void Record(string call, IntPtr graph)
    {
        if (!_live.Contains(graph)) throw new InvalidOperationException($"{call} on a destroyed graph");
        Calls.Add(call);
    }
}
