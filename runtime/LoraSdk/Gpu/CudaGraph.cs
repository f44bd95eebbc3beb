using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Gpu;

/// <summary>
/// A CUDA graph of a TorchSharp function: captured once with static input tensors, then replayed with one launch
/// (libtorch's <c>at::cuda::CUDAGraph</c> with a private memory pool, through the native library of <c>native/</c>).
/// </summary>
/// <remarks>
/// <para>
/// The function runs <see cref="CudaGraphOptions.WarmupRuns"/> times eagerly on the capture stream, then once under
/// capture: every libtorch op issued from the calling thread is recorded, and the tensors it allocates come from the
/// graph's pool. A replay re-runs the recorded kernels on the same memory: the <see cref="Inputs"/> (aliases of the
/// static inputs) are read where they are, and the <see cref="Outputs"/> are overwritten in place. To run it on new
/// data, copy the data into the static inputs (<see cref="Replay(IReadOnlyList{Tensor})"/> does) and replay.
/// </para>
/// <para>
/// A capturable function uses CUDA tensors only, on the calling thread, and does nothing on the host that depends on
/// tensor values: no <c>item()</c>, <c>ToSingle()</c>, <c>cpu()</c>, <c>data&lt;T&gt;()</c>, no CPU tensors copied to the
/// device, no host branches on values. Host-side state it reads (module flags, scales held as C# numbers, cached
/// tensors) is frozen into the graph: change it and the replay still computes the captured values — recapture
/// (<see cref="Recapture"/>), or keep such state in device tensors updated in place.
/// </para>
/// <para>Not thread-safe; replays run on the calling thread's current CUDA stream (the default stream).</para>
/// </remarks>
public sealed class CudaGraph : IDisposable
{
    private static int s_activeCaptures;

    private readonly ICudaGraphBackend _backend;
    private readonly Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> _body;
    private readonly CudaGraphOptions _options;
    private readonly Tensor[] _inputs;
    private readonly CudaGraphHandle _handle;
    private Tensor[] _outputs = Array.Empty<Tensor>();
    private bool _captured;
    private bool _capturing;
    private bool _disposed;
    private bool _disposeRequested;

    private CudaGraph(ICudaGraphBackend backend, int deviceIndex, IReadOnlyList<Tensor> staticInputs,
        Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> body, CudaGraphOptions options)
    {
        _backend = backend;
        _body = body;
        _options = options;
        DeviceIndex = deviceIndex;
        var inputs = new Tensor[staticInputs.Count];
        try
        {
            for (int i = 0; i < inputs.Length; i++) inputs[i] = staticInputs[i].alias().DetachFromDisposeScope();
            _handle = new CudaGraphHandle(backend, backend.CreateGraph(deviceIndex));
        }
        catch
        {
            foreach (var t in inputs) t?.Dispose();
            throw;
        }
        _inputs = inputs;
    }

    /// <summary>Whether a capture is under way in this process (engine code uses it to refuse changes a graph would miss).</summary>
    public static bool IsCaptureUnderway => Volatile.Read(ref s_activeCaptures) > 0;

    /// <summary>The CUDA device index the graph runs on.</summary>
    public int DeviceIndex { get; }

    /// <summary>The graph's aliases of the static inputs (same storage as the tensors passed to the capture).</summary>
    public IReadOnlyList<Tensor> Inputs
    {
        get
        {
            ThrowIfDisposed();
            return _inputs;
        }
    }

    /// <summary>The static outputs, owned by the graph and overwritten by every replay.</summary>
    /// <exception cref="CudaGraphException">Disposed, or not captured.</exception>
    public IReadOnlyList<Tensor> Outputs
    {
        get
        {
            ThrowIfNotCaptured("read the outputs of");
            return _outputs;
        }
    }

    /// <summary>The first static output.</summary>
    public Tensor Output => Outputs[0];

    /// <summary>Whether a graph is captured (false after <see cref="Reset"/> until the next capture).</summary>
    public bool IsCaptured => _captured && !_disposed;

    /// <summary>Whether the graph was disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>How many times the graph was captured (1 after the first capture; recaptures add one each).</summary>
    public int CaptureCount { get; private set; }

    /// <summary>Nodes of the last captured graph (kernels, copies, memsets), or -1 when the native library cannot count them.</summary>
    public long NodeCount { get; private set; } = -1;

    /// <summary>Kernel launches of the last captured graph, or -1 when unknown: the launches one eager run issues.</summary>
    public long KernelCount { get; private set; } = -1;

    /// <summary>The memory pool the graph captured into; pass it in <see cref="CudaGraphOptions.Pool"/> to share it.</summary>
    public CudaGraphPool Pool
    {
        get
        {
            ThrowIfNotCaptured("read the pool of");
            var (first, second) = _backend.GraphPool(_handle.DangerousGetHandle());
            return new CudaGraphPool(DeviceIndex, first, second);
        }
    }

    /// <summary>Captures <paramref name="body"/>, which computes one output from the static inputs.</summary>
    /// <param name="staticInputs">CUDA tensors the function reads; they keep their storage for the graph's life (the graph holds aliases).</param>
    /// <param name="body">The function; it receives the graph's aliases of <paramref name="staticInputs"/>.</param>
    /// <param name="options">Warm-up runs, capture mode, a shared pool; null for the defaults.</param>
    /// <exception cref="CudaGraphException">A bad argument, a CPU tensor, CUDA or the native library unavailable, a capture inside a capture, or a failed capture.</exception>
    public static CudaGraph Capture(IReadOnlyList<Tensor> staticInputs, Func<IReadOnlyList<Tensor>, Tensor> body, CudaGraphOptions? options = null)
    {
        if (body is null) throw Invalid("The function to capture is null.");
        return Capture(staticInputs, inputs => new[] { body(inputs) }, options);
    }

    /// <summary>Captures <paramref name="body"/>, which computes several outputs from the static inputs.</summary>
    /// <param name="staticInputs">CUDA tensors the function reads; they keep their storage for the graph's life (the graph holds aliases).</param>
    /// <param name="body">The function; it receives the graph's aliases of <paramref name="staticInputs"/>.</param>
    /// <param name="options">Warm-up runs, capture mode, a shared pool; null for the defaults.</param>
    /// <exception cref="CudaGraphException">A bad argument, a CPU tensor, CUDA or the native library unavailable, a capture inside a capture, or a failed capture.</exception>
    public static CudaGraph Capture(IReadOnlyList<Tensor> staticInputs, Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> body, CudaGraphOptions? options = null)
    {
        options ??= new CudaGraphOptions();
        ValidateArguments(staticInputs, body, options);
        Device? device = options.Device;
        foreach (var t in staticInputs)
        {
            if (t.device_type != DeviceType.CUDA)
            {
                throw new CudaGraphException(CudaGraphErrorKind.NotCudaDevice,
                    $"A static input is on '{t.device}', not on a CUDA device: CUDA graphs capture CUDA work only; move the inputs (and the model) to the GPU first.");
            }
            device ??= t.device;
        }
        if (device is null)
            throw Invalid("There are no static inputs to take the device from: set CudaGraphOptions.Device.");
        var backend = CudaGraphRuntime.BackendFor(device, out _);
        return CaptureWith(backend, staticInputs, body, options);
    }

    /// <summary>The capture on a given backend (the native library, or a test double).</summary>
    internal static CudaGraph CaptureWith(ICudaGraphBackend backend, IReadOnlyList<Tensor> staticInputs,
        Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> body, CudaGraphOptions options)
    {
        ValidateArguments(staticInputs, body, options);
        ThrowIfCaptureUnderway("start a capture", CudaGraphErrorKind.CaptureInsideCapture);
        int device = ResolveDevice(backend, staticInputs, options);
        var graph = new CudaGraph(backend, device, staticInputs, body, options);
        try
        {
            graph.CaptureCore();
        }
        catch
        {
            graph.Dispose();
            throw;
        }
        return graph;
    }

    /// <summary>Replays the captured graph on the current CUDA stream.</summary>
    /// <exception cref="CudaGraphException">Disposed, not captured, called during a capture, or the launch failed.</exception>
    public void Replay()
    {
        ThrowIfNotCaptured("replay");
        ThrowIfCaptureUnderway("replay a graph");
        ReplayCore();
    }

    /// <summary>Copies <paramref name="inputValues"/> into the static inputs (same shapes and dtypes) and replays.</summary>
    /// <exception cref="CudaGraphException">A value that does not fit its input, or any <see cref="Replay()"/> failure.</exception>
    public void Replay(IReadOnlyList<Tensor> inputValues)
    {
        ThrowIfNotCaptured("replay");
        ThrowIfCaptureUnderway("replay a graph");
        if (inputValues is null) throw Invalid("The input values are null.");
        if (inputValues.Count != _inputs.Length)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture,
                $"{inputValues.Count} input value(s) for {_inputs.Length} static input(s)."));
        }
        for (int i = 0; i < _inputs.Length; i++)
        {
            var value = inputValues[i];
            if (value is null || value.IsInvalid) throw Invalid($"Input value {i} is null or disposed.");
            if (value.dtype != _inputs[i].dtype || !value.shape.SequenceEqual(_inputs[i].shape))
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"Input value {i} is {value.dtype} [{string.Join(", ", value.shape)}], the static input is {_inputs[i].dtype} [{string.Join(", ", _inputs[i].shape)}]: a graph replays one shape; capture another graph for another shape."));
            }
        }
        for (int i = 0; i < _inputs.Length; i++) _inputs[i].copy_(inputValues[i]);
        ReplayCore();
    }

    private void ReplayCore()
    {
        if (_backend.EmulatesReplay)
        {
            // A stand-in backend without a GPU: compute what the replay would, eagerly, into the static outputs.
            using var scope = torch.NewDisposeScope();
            var result = _body(_inputs);
            for (int i = 0; i < _outputs.Length; i++) _outputs[i].copy_(result[i]);
        }
        _backend.Replay(_handle.DangerousGetHandle());
    }

    /// <summary>Drops the captured graph and its outputs (and its hold on the pool); <see cref="Recapture"/> captures again.</summary>
    public void Reset()
    {
        ThrowIfDisposed();
        if (_capturing) throw new CudaGraphException(CudaGraphErrorKind.InvalidDuringCapture, "A graph cannot be reset while it is being captured.");
        DisposeOutputs();
        _captured = false;
        _backend.Reset(_handle.DangerousGetHandle());
    }

    /// <summary>
    /// Captures the function again (after a change of host-side state that the graph froze): warm-up runs, capture,
    /// new outputs. <see cref="CaptureCount"/> counts it. The old outputs are disposed.
    /// </summary>
    /// <exception cref="CudaGraphException">Disposed, during a capture, or a failed capture (the graph is then not captured).</exception>
    public void Recapture()
    {
        ThrowIfDisposed();
        ThrowIfCaptureUnderway("recapture a graph");
        if (_captured) Reset();
        CaptureCore();
    }

    /// <summary>Frees the outputs, the input aliases and the native graph (with its pool, once no other graph uses it).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_capturing)
        {
            _disposeRequested = true;
            return;
        }
        _disposed = true;
        _captured = false;
        DisposeOutputs();
        foreach (var t in _inputs) t.Dispose();
        _handle.Dispose();
    }

    private void CaptureCore()
    {
        ThrowIfCaptureUnderway("start a capture", CudaGraphErrorKind.CaptureInsideCapture);
        IntPtr graph = _handle.DangerousGetHandle();
        if (_options.WarmupRuns > 0)
        {
            _backend.WarmupBegin(graph);
            try
            {
                for (int i = 0; i < _options.WarmupRuns; i++)
                {
                    var outputs = RunBody();
                    foreach (var t in outputs) t.Dispose();
                }
            }
            finally
            {
                _backend.WarmupEnd(graph);
            }
        }

        var pool = _options.Pool;
        Interlocked.Increment(ref s_activeCaptures);
        _capturing = true;
        try
        {
            _backend.CaptureBegin(graph, pool?.First ?? 0, pool?.Second ?? 0, _options.CaptureMode);
            Tensor[] captured;
            try
            {
                captured = RunBody();
            }
            catch (Exception e)
            {
                try
                {
                    _backend.CaptureAbort(graph);
                }
                catch (CudaGraphException abortError)
                {
                    throw new CudaGraphException(CudaGraphErrorKind.CaptureFailed,
                        $"Capturing the function failed ({e.Message}), and ending the broken capture failed too: {abortError.Message}",
                        new AggregateException(e, abortError));
                }
                if (e is LoraSdkException) ExceptionDispatchInfo.Throw(e);
                throw new CudaGraphException(CudaGraphErrorKind.CaptureFailed,
                    $"Capturing the function failed: {e.Message} A captured function must run on this thread with CUDA tensors only and must not "
                    + "synchronize with the host (item(), ToSingle(), cpu(), data<T>()) nor copy host data to the device; nothing was captured.", e);
            }
            (long Nodes, long Kernels) counts;
            try
            {
                counts = _backend.CaptureEnd(graph);
            }
            catch (CudaGraphException e)
            {
                foreach (var t in captured) t.Dispose();
                throw new CudaGraphException(CudaGraphErrorKind.CaptureFailed,
                    $"The capture could not be completed: {e.Message} (an operation in the function invalidated it; nothing was captured).", e);
            }
            _outputs = captured;
            _captured = true;
            NodeCount = counts.Nodes;
            KernelCount = counts.Kernels;
            CaptureCount++;
        }
        finally
        {
            _capturing = false;
            Interlocked.Decrement(ref s_activeCaptures);
            if (_disposeRequested) Dispose();
        }
    }

    // Runs the function once and returns graph-owned aliases of its outputs; every other tensor it made is freed here
    // (during a capture, back into the graph's pool).
    private Tensor[] RunBody()
    {
        using var scope = torch.NewDisposeScope();
        var result = _body(_inputs);
        if (result is null || result.Count == 0) throw Invalid("The captured function returned no tensors.");
        var kept = new List<Tensor>(result.Count);
        try
        {
            for (int i = 0; i < result.Count; i++)
            {
                var t = result[i];
                if (t is null || t.IsInvalid) throw Invalid($"The captured function's output {i} is null or disposed.");
                int? device = _backend.DeviceOf(t);
                if (device != DeviceIndex)
                {
                    throw new CudaGraphException(CudaGraphErrorKind.NotCudaDevice,
                        string.Create(CultureInfo.InvariantCulture,
                            $"The captured function's output {i} is on '{t.device}', not on the graph's device cuda:{DeviceIndex}."));
                }
                kept.Add(t.alias().DetachFromDisposeScope());
            }
        }
        catch
        {
            foreach (var t in kept) t.Dispose();
            throw;
        }
        return kept.ToArray();
    }

    private static void ValidateArguments(IReadOnlyList<Tensor> staticInputs, object body, CudaGraphOptions options)
    {
        if (staticInputs is null) throw Invalid("The static inputs are null (pass an empty list for none).");
        if (body is null) throw Invalid("The function to capture is null.");
        if (options is null) throw Invalid("The options are null.");
        if (options.WarmupRuns < 0) throw Invalid("CudaGraphOptions.WarmupRuns must be 0 or more.");
        if (!Enum.IsDefined(options.CaptureMode)) throw Invalid($"Unknown capture mode {options.CaptureMode}.");
        for (int i = 0; i < staticInputs.Count; i++)
        {
            if (staticInputs[i] is null || staticInputs[i].IsInvalid) throw Invalid($"Static input {i} is null or disposed.");
        }
    }

    private static int ResolveDevice(ICudaGraphBackend backend, IReadOnlyList<Tensor> staticInputs, CudaGraphOptions options)
    {
        int? device = null;
        if (options.Device is not null) device = CudaGraphRuntime.CudaIndex(options.Device);
        for (int i = 0; i < staticInputs.Count; i++)
        {
            int? d = backend.DeviceOf(staticInputs[i]);
            if (d is null)
            {
                throw new CudaGraphException(CudaGraphErrorKind.NotCudaDevice,
                    $"Static input {i} is on '{staticInputs[i].device}', not on a CUDA device: CUDA graphs capture CUDA work only.");
            }
            if (device is not null && d != device)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"Static input {i} is on cuda:{d}, but the graph captures on cuda:{device}: one graph runs on one device."));
            }
            device = d;
        }
        if (device is null) throw Invalid("There are no static inputs to take the device from: set CudaGraphOptions.Device.");
        if (options.Pool is not null && options.Pool.DeviceIndex != device)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture,
                $"The pool belongs to cuda:{options.Pool.DeviceIndex}, the graph captures on cuda:{device}."));
        }
        return device.Value;
    }

    private static void ThrowIfCaptureUnderway(string what, CudaGraphErrorKind kind = CudaGraphErrorKind.InvalidDuringCapture)
    {
        if (IsCaptureUnderway)
        {
            throw new CudaGraphException(kind,
                $"Cannot {what} while a capture is under way: a capture records every CUDA call of the process; finish it first.");
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new CudaGraphException(CudaGraphErrorKind.Disposed, "The CUDA graph was disposed.");
    }

    private void ThrowIfNotCaptured(string what)
    {
        ThrowIfDisposed();
        if (!_captured)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NotCaptured,
                $"Cannot {what} a graph that is not captured (it was reset, or its capture failed): call Recapture() first.");
        }
    }

    private void DisposeOutputs()
    {
        foreach (var t in _outputs) t.Dispose();
        _outputs = Array.Empty<Tensor>();
    }

    private static CudaGraphException Invalid(string message) => new(CudaGraphErrorKind.InvalidArgument, message);
}
