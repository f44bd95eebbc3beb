using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Engine.Tests.Merging;
using LoraSdk.Gpu;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Gpu;

/// <summary>
/// The managed side of <see cref="CudaGraph"/> on a CPU-only machine: argument validation, the order of warm-up and
/// capture, abort on failure, replay/reset/recapture/dispose rules, pools. The native calls go to
/// <see cref="RecordingGraphBackend"/>, which runs nothing on a GPU: the function's tensors are CPU tensors, so the
/// "captured" outputs are simply the values the capture run computed.
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class CudaGraphCaptureTests
{
    private static readonly CudaGraphOptions TwoWarmups = new() { WarmupRuns = 2 };

    private static Tensor Input() => arange(6, ScalarType.Float32).reshape(2, 3);

    [Fact]
    public void Capture_warms_up_on_the_capture_stream_then_captures_once_and_keeps_the_outputs()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, inputs =>
        {
            backend.Note("body");
            return new[] { inputs[0] * 2 + 1, inputs[0].sum() };
        }, TwoWarmups);

        Assert.Equal(new[] { "create", "warmup_begin", "body", "body", "warmup_end", "capture_begin(0,0,Global)", "body", "capture_end" },
            backend.Calls);
        Assert.True(graph.IsCaptured);
        Assert.Equal(1, graph.CaptureCount);
        Assert.Equal(12, graph.NodeCount);
        Assert.Equal(10, graph.KernelCount);
        Assert.Equal(2, graph.Outputs.Count);
        using var expected = x * 2 + 1;
        Assert.True(TensorAssert.Identical(expected, graph.Output));
        Assert.Equal(15f, graph.Outputs[1].item<float>());
        Assert.False(CudaGraph.IsCaptureUnderway);
    }

    [Fact]
    public void Without_warmup_runs_the_function_runs_once_under_capture()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] + 1),
            new CudaGraphOptions { WarmupRuns = 0, CaptureMode = CudaGraphCaptureMode.ThreadLocal });
        Assert.Equal(new[] { "create", "capture_begin(0,0,ThreadLocal)", "body", "capture_end" }, backend.Calls);
    }

    [Fact]
    public void Replay_with_values_copies_them_into_the_static_inputs_which_alias_the_callers_tensors()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] * 3), TwoWarmups);
        using var y = full(new long[] { 2, 3 }, 7f);
        graph.Replay(new[] { y });
        Assert.Equal("replay", backend.Calls[^1]);
        Assert.True(TensorAssert.Identical(y, graph.Inputs[0]));
        Assert.True(TensorAssert.Identical(y, x));  // the graph reads the caller's storage
        graph.Replay();
        Assert.Equal(2, backend.Calls.Count(c => c == "replay"));
    }

    [Fact]
    public void Replay_with_a_value_of_another_shape_or_dtype_is_refused_and_changes_nothing()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var before = x.clone();
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] * 3), TwoWarmups);
        using var wrongShape = zeros(3, 2);
        using var wrongType = zeros(new long[] { 2, 3 }, ScalarType.Float64);
        var e1 = Assert.Throws<CudaGraphException>(() => graph.Replay(new[] { wrongShape }));
        var e2 = Assert.Throws<CudaGraphException>(() => graph.Replay(new[] { wrongType }));
        var e3 = Assert.Throws<CudaGraphException>(() => graph.Replay(new[] { x, x }));
        Assert.All(new[] { e1, e2, e3 }, e => Assert.Equal(CudaGraphErrorKind.InvalidArgument, e.Kind));
        Assert.All(new[] { e1, e2, e3 }, e => Assert.Equal(LoraSdkErrorCategory.InvalidArgument, e.Category));
        Assert.Contains("[3, 2]", e1.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("replay", backend.Calls);
        Assert.True(TensorAssert.Identical(before, x));
    }

    [Fact]
    public void Replay_after_reset_is_refused_until_recapture()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] - 1), TwoWarmups);
        var firstOutput = graph.Output;
        graph.Reset();
        Assert.True(firstOutput.IsInvalid);
        Assert.False(graph.IsCaptured);
        var e = Assert.Throws<CudaGraphException>(() => graph.Replay());
        Assert.Equal(CudaGraphErrorKind.NotCaptured, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.InvalidOperation, e.Category);
        Assert.Equal(CudaGraphErrorKind.NotCaptured, Assert.Throws<CudaGraphException>(() => graph.Outputs).Kind);
        Assert.Equal(CudaGraphErrorKind.NotCaptured, Assert.Throws<CudaGraphException>(() => graph.Pool).Kind);

        graph.Recapture();
        Assert.True(graph.IsCaptured);
        Assert.Equal(2, graph.CaptureCount);
        graph.Replay();
        Assert.Equal(new[] { "reset", "warmup_begin", "body", "body", "warmup_end", "capture_begin(0,0,Global)", "body", "capture_end", "replay" },
            backend.Calls.SkipWhile(c => c != "reset"));
    }

    [Fact]
    public void Dispose_frees_outputs_aliases_and_the_native_graph_once_and_later_calls_are_refused()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] * 2), TwoWarmups);
        var output = graph.Output;
        var alias = graph.Inputs[0];
        graph.Dispose();
        graph.Dispose();
        Assert.True(graph.IsDisposed);
        Assert.True(output.IsInvalid);
        Assert.True(alias.IsInvalid);
        Assert.False(x.IsInvalid);  // the caller's tensor is the caller's
        Assert.Equal(1, backend.Calls.Count(c => c == "destroy"));
        Assert.Equal(0, backend.LiveGraphs);
        foreach (Action call in new Action[] { () => graph.Replay(), () => graph.Reset(), () => graph.Recapture(), () => _ = graph.Outputs, () => _ = graph.Inputs })
        {
            var e = Assert.Throws<CudaGraphException>(call);
            Assert.Equal(CudaGraphErrorKind.Disposed, e.Kind);
        }
    }

    [Fact]
    public void A_capture_inside_a_capture_is_refused_and_the_outer_capture_is_aborted()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var e = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, inputs =>
        {
            backend.Note("body");
            if (CudaGraph.IsCaptureUnderway)
            {
                using var inner = CudaGraph.CaptureWith(backend, inputs, Body(backend, i => i[0] + 1), new CudaGraphOptions());
            }
            return new[] { inputs[0] + 1 };
        }, TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.CaptureInsideCapture, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.InvalidOperation, e.Category);
        Assert.Equal(new[] { "capture_begin(0,0,Global)", "body", "capture_abort", "destroy" }, backend.Calls.SkipWhile(c => !c.StartsWith("capture_begin", StringComparison.Ordinal)));
        Assert.Equal(1, backend.Calls.Count(c => c == "create"));  // the inner capture never reached the native side
        Assert.False(CudaGraph.IsCaptureUnderway);
        Assert.Equal(0, backend.LiveGraphs);

        using var after = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] + 1), TwoWarmups);
        Assert.True(after.IsCaptured);
    }

    [Fact]
    public void A_replay_inside_a_capture_is_refused()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        using var first = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] + 1), TwoWarmups);
        var e = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, inputs =>
        {
            if (CudaGraph.IsCaptureUnderway) first.Replay();
            return new[] { inputs[0] * 2 };
        }, TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.InvalidDuringCapture, e.Kind);
        Assert.Equal(1, backend.Calls.Count(c => c == "capture_abort"));
        Assert.DoesNotContain("replay", backend.Calls);
        first.Replay();  // after the failed capture, replays work again
    }

    [Fact]
    public void A_function_failing_under_capture_aborts_it_and_leaves_no_graph()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        int runs = 0;
        var e = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, inputs =>
        {
            if (++runs == 3) throw new InvalidOperationException("CUDA error: operation not permitted when stream is capturing");
            return new[] { inputs[0] + 1 };
        }, TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.CaptureFailed, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Native, e.Category);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("operation not permitted when stream is capturing", e.Message, StringComparison.Ordinal);
        Assert.Contains("item()", e.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "capture_abort", "destroy" }, backend.Calls.TakeLast(2));
        Assert.Equal(0, backend.LiveGraphs);
        Assert.False(CudaGraph.IsCaptureUnderway);
    }

    [Fact]
    public void A_function_failing_in_warmup_ends_the_warmup_and_keeps_its_exception()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var e = Assert.Throws<ArithmeticException>(() => CudaGraph.CaptureWith(backend, new[] { x },
            _ => throw new ArithmeticException("bad"), TwoWarmups));
        Assert.Equal("bad", e.Message);
        Assert.Equal(new[] { "create", "warmup_begin", "warmup_end", "destroy" }, backend.Calls);
    }

    [Fact]
    public void Outputs_that_are_missing_or_not_on_the_graphs_device_abort_the_capture()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var empty = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, _ => Array.Empty<Tensor>(), TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.InvalidArgument, empty.Kind);
        var nulls = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, _ => null!, new CudaGraphOptions { WarmupRuns = 0 }));
        Assert.Equal(CudaGraphErrorKind.InvalidArgument, nulls.Kind);
        Assert.Equal(1, backend.Calls.Count(c => c == "capture_abort"));

        int runs = 0;
        var elsewhere = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, inputs =>
        {
            if (++runs == 3) backend.AcceptCpuTensors = false;  // the capture run's output is "on the host"
            return new[] { inputs[0] + 1 };
        }, TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.NotCudaDevice, elsewhere.Kind);
        Assert.Equal(2, backend.Calls.Count(c => c == "capture_abort"));
        Assert.Equal(0, backend.LiveGraphs);
    }

    [Fact]
    public void A_native_failure_at_the_end_of_the_capture_leaves_nothing_captured()
    {
        var backend = new RecordingGraphBackend { FailOn = "capture_end" };
        using var x = Input();
        var e = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] + 1), TwoWarmups));
        Assert.Equal(CudaGraphErrorKind.CaptureFailed, e.Kind);
        Assert.IsType<CudaGraphException>(e.InnerException);
        Assert.Equal(0, backend.LiveGraphs);
        Assert.False(CudaGraph.IsCaptureUnderway);
    }

    [Fact]
    public void Bad_arguments_are_refused_before_anything_native_happens()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var disposed = Input();
        disposed.Dispose();
        Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> body = i => new[] { i[0] + 1 };
        var cases = new (string What, Action Call)[]
        {
            ("null inputs", () => CudaGraph.CaptureWith(backend, null!, body, new CudaGraphOptions())),
            ("null body", () => CudaGraph.CaptureWith(backend, new[] { x }, null!, new CudaGraphOptions())),
            ("null options", () => CudaGraph.CaptureWith(backend, new[] { x }, body, null!)),
            ("null input", () => CudaGraph.CaptureWith(backend, new Tensor[] { null! }, body, new CudaGraphOptions())),
            ("disposed input", () => CudaGraph.CaptureWith(backend, new[] { disposed }, body, new CudaGraphOptions())),
            ("negative warm-up", () => CudaGraph.CaptureWith(backend, new[] { x }, body, new CudaGraphOptions { WarmupRuns = -1 })),
            ("unknown mode", () => CudaGraph.CaptureWith(backend, new[] { x }, body, new CudaGraphOptions { CaptureMode = (CudaGraphCaptureMode)7 })),
            ("no device", () => CudaGraph.CaptureWith(backend, Array.Empty<Tensor>(), body, new CudaGraphOptions())),
            ("pool of another device", () => CudaGraph.CaptureWith(backend, new[] { x }, body, new CudaGraphOptions { Pool = new CudaGraphPool(1, 0, 9) })),
            ("public: null body", () => CudaGraph.Capture(new[] { x }, (Func<IReadOnlyList<Tensor>, Tensor>)null!)),
            ("public: disposed input", () => CudaGraph.Capture(new[] { disposed }, i => i[0])),
        };
        foreach (var (what, call) in cases)
        {
            var e = Assert.Throws<CudaGraphException>(call);
            Assert.True(e.Kind == CudaGraphErrorKind.InvalidArgument, $"{what}: {e.Kind} {e.Message}");
        }
        Assert.Empty(backend.Calls);
    }

    [Fact]
    public void Cpu_tensors_are_refused_as_not_on_a_cuda_device()
    {
        using var x = Input();
        var viaPublicApi = Assert.Throws<CudaGraphException>(() => CudaGraph.Capture(new[] { x }, i => i[0] + 1));
        Assert.Equal(CudaGraphErrorKind.NotCudaDevice, viaPublicApi.Kind);
        Assert.Equal(LoraSdkErrorCategory.Unsupported, viaPublicApi.Category);
        Assert.Contains("'cpu", viaPublicApi.Message, StringComparison.OrdinalIgnoreCase);

        var backend = new RecordingGraphBackend { AcceptCpuTensors = false };
        var viaBackend = Assert.Throws<CudaGraphException>(() => CudaGraph.CaptureWith(backend, new[] { x }, i => new[] { i[0] + 1 }, new CudaGraphOptions()));
        Assert.Equal(CudaGraphErrorKind.NotCudaDevice, viaBackend.Kind);
        Assert.Empty(backend.Calls);

        var cpuPool = Assert.Throws<CudaGraphException>(() => CudaGraphPool.Create(CPU));
        Assert.Equal(CudaGraphErrorKind.NotCudaDevice, cpuPool.Kind);
    }

    [Fact]
    public void Without_cuda_a_capture_on_a_cuda_device_reports_cuda_unavailable()
    {
        if (cuda.is_available()) return;  // this check is about CPU-only machines (CI)
        var e = Assert.Throws<CudaGraphException>(() => CudaGraph.Capture(Array.Empty<Tensor>(), _ => zeros(1),
            new CudaGraphOptions { Device = new Device(DeviceType.CUDA, 0) }));
        Assert.Equal(CudaGraphErrorKind.CudaUnavailable, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Unsupported, e.Category);
        var pool = Assert.Throws<CudaGraphException>(() => CudaGraphPool.Create(new Device(DeviceType.CUDA, 0)));
        Assert.Equal(CudaGraphErrorKind.CudaUnavailable, pool.Kind);
    }

    [Fact]
    public void A_shared_pool_is_passed_to_the_capture_and_a_graph_reports_its_own()
    {
        var backend = new RecordingGraphBackend();
        using var x = Input();
        var shared = new CudaGraphPool(0, 0, 77);
        using var graph = CudaGraph.CaptureWith(backend, new[] { x }, Body(backend, i => i[0] + 1),
            new CudaGraphOptions { WarmupRuns = 0, Pool = shared });
        Assert.Contains("capture_begin(0,77,Global)", backend.Calls);
        Assert.Equal(new CudaGraphPool(0, 5, 0), graph.Pool);
        Assert.NotEqual(shared, graph.Pool);
    }

    private static Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>> Body(RecordingGraphBackend backend, Func<IReadOnlyList<Tensor>, Tensor> f) =>
        inputs =>
        {
            backend.Note("body");
            return new[] { f(inputs) };
        };
}
