using System;
using static TorchSharp.torch;

namespace LoraSdk.Gpu;

/// <summary>
/// The native operations <see cref="CudaGraph"/> is built on: the native library in production, a recording fake in
/// the CPU-only tests of the managed state machine. Failures throw <see cref="CudaGraphException"/>.
/// </summary>
internal interface ICudaGraphBackend
{
    /// <summary>The CUDA device index the tensor lives on, or null when it is not a device tensor of this backend.</summary>
    int? DeviceOf(Tensor tensor);

    /// <summary>
    /// True for a stand-in without a GPU (tests of code that replays graphs on a CPU-only machine): a replay then runs
    /// the captured function again, eagerly, and copies its outputs into the static outputs, so the caller sees what a
    /// replay of the current inputs computes. False for the native library.
    /// </summary>
    bool EmulatesReplay { get; }

    /// <summary>Number of CUDA devices.</summary>
    int DeviceCount { get; }

    (ulong First, ulong Second) NewPoolId();

    IntPtr CreateGraph(int deviceIndex);

    void WarmupBegin(IntPtr graph);

    void WarmupEnd(IntPtr graph);

    void CaptureBegin(IntPtr graph, ulong poolFirst, ulong poolSecond, CudaGraphCaptureMode mode);

    /// <summary>Ends the capture and instantiates the graph; the counts are -1 when unknown.</summary>
    (long Nodes, long Kernels) CaptureEnd(IntPtr graph);

    void CaptureAbort(IntPtr graph);

    void Replay(IntPtr graph);

    void Reset(IntPtr graph);

    (ulong First, ulong Second) GraphPool(IntPtr graph);

    /// <summary>Frees the graph; callable from any thread (the native side defers it while a capture runs).</summary>
    void Destroy(IntPtr graph);
}
