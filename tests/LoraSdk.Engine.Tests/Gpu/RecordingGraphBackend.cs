using System;
using System.Collections.Generic;
using LoraSdk.Gpu;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Gpu;

/// <summary>
/// A stand-in for the native graph library that records the calls <see cref="CudaGraph"/> makes, so the managed state
/// machine (warm-up, capture, abort, replay, reset, dispose) is tested on a CPU-only machine. It treats CPU tensors as
/// tensors of device <see cref="Device"/> (or of no CUDA device when <see cref="AcceptCpuTensors"/> is false).
/// The native side itself is tested on a GPU by benchmarks/gpu/device-run.sh.
/// </summary>
internal sealed class RecordingGraphBackend : ICudaGraphBackend
{
    private readonly HashSet<IntPtr> _live = new();
    private long _next = 0x1000;

    public List<string> Calls { get; } = new();

    public bool AcceptCpuTensors { get; set; } = true;

    public int Device { get; set; }

    public string? FailOn { get; set; }

    public int LiveGraphs => _live.Count;

    /// <summary>When true, <see cref="CudaGraph.Replay()"/> re-runs the captured function (see <see cref="ICudaGraphBackend.EmulatesReplay"/>).</summary>
    public bool EmulatesReplay { get; set; }

    public int? DeviceOf(Tensor tensor) => AcceptCpuTensors ? Device : null;

    public int DeviceCount => 1;

    public (ulong First, ulong Second) NewPoolId() => (0, 77);

    public IntPtr CreateGraph(int deviceIndex)
    {
        Record("create");
        var g = new IntPtr(_next++);
        _live.Add(g);
        return g;
    }

    public void WarmupBegin(IntPtr graph) => Record("warmup_begin", graph);

    public void WarmupEnd(IntPtr graph) => Record("warmup_end", graph);

    public void CaptureBegin(IntPtr graph, ulong poolFirst, ulong poolSecond, CudaGraphCaptureMode mode) =>
        Record($"capture_begin({poolFirst},{poolSecond},{mode})", graph);

    public (long Nodes, long Kernels) CaptureEnd(IntPtr graph)
    {
        Record("capture_end", graph);
        return (12, 10);
    }

    public void CaptureAbort(IntPtr graph) => Record("capture_abort", graph);

    public void Replay(IntPtr graph) => Record("replay", graph);

    public void Reset(IntPtr graph) => Record("reset", graph);

    public (ulong First, ulong Second) GraphPool(IntPtr graph)
    {
        Record("pool", graph);
        return (5, 0);
    }

    public void Destroy(IntPtr graph)
    {
        Record("destroy", graph);
        if (!_live.Remove(graph)) throw new InvalidOperationException("destroyed twice or never created");
    }

    /// <summary>Marks a point in <see cref="Calls"/> (the captured function calls it).</summary>
    public void Note(string what) => Calls.Add(what);

    private void Record(string call, IntPtr graph = default)
    {
        if (graph != IntPtr.Zero && !_live.Contains(graph)) throw new InvalidOperationException($"{call} on a destroyed graph");
        string name = call.Split('(')[0];
        Calls.Add(call);
        if (FailOn == name) throw new CudaGraphException(CudaGraphErrorKind.NativeCallFailed, $"{name} failed (simulated)");
    }
}
