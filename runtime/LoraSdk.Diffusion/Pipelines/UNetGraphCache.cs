using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Gpu;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// The CUDA graphs of a <see cref="StableDiffusionXLPipeline"/>'s UNet step, used when
/// <see cref="StableDiffusionXLCallOptions.UseCudaGraphs"/> is set: one graph per step shape (latent batch, channels,
/// height, width, dtype, and the shapes of the conditioning tensors), captured on first use, kept across calls and
/// replayed with one launch per step; all graphs share one memory pool. The UNet's LoRA component is pinned for graphs
/// (policy <see cref="LoraGraphPinPolicy.Release"/>), so hotswaps, <c>SetAdapters</c> weights of the pinned adapters,
/// the runtime scale and step-end scale schedules reach the next replay without recapture. A LoRA change that alters
/// the captured plan (another set of active adapters, a new adapter, fuse/unfuse, another forward mode) releases the
/// pin: the graphs are dropped and the next step pins again and captures anew — counted in <see cref="Recaptures"/>
/// with the reason in <see cref="LastRecaptureReason"/>, never a replay of the old plan. Not thread-safe (one call at a
/// time, like the pipeline).
/// </summary>
public sealed class UNetGraphCache : IDisposable
{
    private readonly StableDiffusionXLPipeline _pipeline;
    private readonly Dictionary<string, Entry> _graphs = new Dictionary<string, Entry>(StringComparer.Ordinal);
    private readonly HashSet<string> _dropped = new HashSet<string>(StringComparer.Ordinal);
    private LoraGraphPin? _pin;
    private CudaGraphPool? _pool;
    private bool _disposed;

    internal UNetGraphCache(StableDiffusionXLPipeline pipeline)
    {
        _pipeline = pipeline;
    }

    /// <summary>The graphs held now.</summary>
    public int Count => _graphs.Count;

    /// <summary>The keys of the graphs held now (the step shape and dtypes, then the pinned LoRA plan), for logs.</summary>
    public IReadOnlyList<string> Keys => _graphs.Keys.Select(k => k + " " + PlanOf()).ToList();

    /// <summary>Graphs captured so far (first captures and recaptures).</summary>
    public int Captures { get; private set; }

    /// <summary>Captures of a step shape whose graph was dropped because a LoRA change altered the captured plan.</summary>
    public int Recaptures { get; private set; }

    /// <summary>Replays so far (one per denoising step with graphs).</summary>
    public long Replays { get; private set; }

    /// <summary>Why the graphs were last dropped (the LoRA change that released the pin), or null.</summary>
    public string? LastRecaptureReason { get; private set; }

    /// <summary>Warm-up runs before each capture (<see cref="CudaGraphOptions.WarmupRuns"/>, default 3).</summary>
    public int WarmupRuns { get; set; } = 3;

    /// <summary>Test seam: captures with another backend (a CPU stand-in) instead of <see cref="CudaGraph.Capture(IReadOnlyList{Tensor}, Func{IReadOnlyList{Tensor}, Tensor}, CudaGraphOptions?)"/>.</summary>
    internal Func<IReadOnlyList<Tensor>, Func<IReadOnlyList<Tensor>, Tensor>, CudaGraphOptions, CudaGraph>? CaptureOverride { get; set; }

    /// <summary>Drops every graph, its static tensors and the LoRA pin (LoRA changes are then free again).</summary>
    public void Clear()
    {
        DropGraphs();
        _dropped.Clear();
        _pin?.Dispose();
        _pin = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        Clear();
        _disposed = true;
    }

    /// <summary>
    /// Fails early, before any work of the call, when graphs cannot run: no CUDA in this process
    /// (<see cref="CudaGraphErrorKind.CudaUnavailable"/>), a UNet that is not on a CUDA device
    /// (<see cref="CudaGraphErrorKind.NotCudaDevice"/>), or the native graph library missing or mismatched.
    /// </summary>
    internal void EnsureAvailable(Device device)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(UNetGraphCache));
        if (CaptureOverride is not null) return;
        if (!cuda.is_available())
        {
            throw new CudaGraphException(CudaGraphErrorKind.CudaUnavailable,
                "UseCudaGraphs needs CUDA, which is not available to libtorch in this process (CPU-only natives, or no GPU/driver); " +
                "run the pipeline without UseCudaGraphs, or with TorchSharp's CUDA natives on a GPU.");
        }
        if (device.type != DeviceType.CUDA)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NotCudaDevice,
                $"UseCudaGraphs captures the UNet on a CUDA device, but the UNet is on '{device}': load the pipeline with ModelLoadOptions.Device = cuda.");
        }
        CudaGraphRuntime.Load();
    }

    /// <summary>Pins the UNet's LoRA component (again, if a change released the pin), dropping the graphs of a released pin.</summary>
    internal void EnsurePinned()
    {
        if (_pin is { IsActive: true }) return;
        if (_pin is not null)
        {
            LastRecaptureReason = _pin.ReleaseReason;
            foreach (var key in _graphs.Keys) _dropped.Add(key);
            DropGraphs();
            _pin.Dispose();
            _pin = null;
        }
        _pin = _pipeline.Lora.PinForGraphs(new[] { LoraComponents.Unet }, null, LoraGraphPinPolicy.Release);
    }

    /// <summary>
    /// One UNet step through the graph of its shape (captured on first use): copies the step's values into the graph's
    /// static inputs and replays. The result is the graph's static output: valid until the next step, owned by the cache.
    /// </summary>
    internal Tensor Step(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor textEmbeds, Tensor timeIds)
    {
        EnsurePinned();
        var values = new[] { sample, timestep, encoderHiddenStates, textEmbeds, timeIds };
        string key = KeyOf(values);
        if (_graphs.TryGetValue(key, out var entry))
        {
            using var noGrad = no_grad();
            // Every input, every step: a callback may have changed a conditioning tensor in place.
            for (int i = 0; i < values.Length; i++) entry.Statics[i].copy_(values[i]);
        }
        else
        {
            entry = Capture(key, values);
        }
        entry.Graph.Replay();
        Replays++;
        return entry.Graph.Output;
    }

    private Entry Capture(string key, Tensor[] values)
    {
        Tensor[] statics;
        using (no_grad())
            statics = values.Select(v => v.detach().clone().DetachFromDisposeScope()).ToArray();
        try
        {
            var unet = _pipeline.Unet;
            var options = new CudaGraphOptions { Pool = _pool, WarmupRuns = WarmupRuns };
            Tensor Body(IReadOnlyList<Tensor> i) => unet.Forward(i[0], i[1], i[2], i[3], i[4]);
            var graph = CaptureOverride is not null ? CaptureOverride(statics, Body, options) : CudaGraph.Capture(statics, Body, options);
            try
            {
                _pin!.Bind(graph);
                _pool ??= graph.Pool;
            }
            catch
            {
                graph.Dispose();
                throw;
            }
            Captures++;
            if (_dropped.Remove(key)) Recaptures++;
            var entry = new Entry(graph, statics);
            _graphs.Add(key, entry);
            return entry;
        }
        catch
        {
            foreach (var t in statics) t.Dispose();
            throw;
        }
    }

    // The step shape: every input's dtype, shape and device. The LoRA plan is not part of it: the graphs belong to the
    // current pin, and a plan change drops them all.
    private static string KeyOf(Tensor[] values) =>
        string.Join(" ", values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.dtype}[{string.Join("x", v.shape)}]@{v.device}")));

    private string PlanOf()
    {
        var component = _pipeline.Lora[LoraComponents.Unet];
        return $"lora={component.ForwardMode}:[{string.Join(",", component.GraphPinnedAdapters)}]";
    }

    private void DropGraphs()
    {
        foreach (var entry in _graphs.Values) entry.Dispose();
        _graphs.Clear();
        _pool = null;
    }

    private sealed class Entry : IDisposable
    {
        public Entry(CudaGraph graph, Tensor[] statics)
        {
            Graph = graph;
            Statics = statics;
        }

        public CudaGraph Graph { get; }

        /// <summary>The static inputs (the graph holds aliases of them).</summary>
        public Tensor[] Statics { get; }

        public void Dispose()
        {
            Graph.Dispose();
            foreach (var t in Statics) t.Dispose();
        }
    }
}
