using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// A component's graph-stable forward state while it is pinned for CUDA graphs: the pinned adapter set, every layer's
/// fixed <see cref="LayerGraphPlan"/> and the scale buffers they read. <see cref="Refresh"/> pushes host-side changes
/// (scalings, runtime scale, active set within the pin, disable, hotswapped factors) into those device tensors in place;
/// the component calls it after every change it allows while pinned.
/// </summary>
internal sealed class GraphForwardState : IDisposable
{
    private readonly ComponentForwardState _host;
    private readonly List<LayerAdapters> _layers = new List<LayerAdapters>();
    private readonly Dictionary<string, GraphScaleBuffer> _buffers = new Dictionary<string, GraphScaleBuffer>(StringComparer.Ordinal);

    /// <summary>Pins <paramref name="layers"/> with <paramref name="adapters"/>; on failure nothing stays pinned.</summary>
    public GraphForwardState(ComponentForwardState host, IReadOnlyList<string> adapters, IEnumerable<LayerAdapters> layers)
    {
        _host = host;
        Adapters = adapters;
        try
        {
            foreach (var layer in layers)
            {
                _layers.Add(layer);
                layer.PinForGraphs(adapters, host.Mode, BufferFor);
            }
            foreach (var buffer in _buffers.Values) buffer.Allocate();
            foreach (var layer in _layers) layer.AttachGraphScale();
            Refresh();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The pinned adapters, in the order their rank blocks are stacked.</summary>
    public IReadOnlyList<string> Adapters { get; }

    /// <summary>The scale buffers, one per device (tests read their storage).</summary>
    public IEnumerable<GraphScaleBuffer> Buffers => _buffers.Values;

    /// <summary>The pinned layers.</summary>
    public IReadOnlyList<LayerAdapters> Layers => _layers;

    /// <summary>Writes the current host state into the plans' device tensors (in place), then uploads changed scales.</summary>
    public void Refresh()
    {
        double runtime = _host.RuntimeScale;
        foreach (var layer in _layers) layer.RefreshGraph(runtime);
        foreach (var buffer in _buffers.Values) buffer.Upload();
    }

    /// <summary>Ends every layer's plan and frees the buffers.</summary>
    public void Dispose()
    {
        foreach (var layer in _layers) layer.UnpinForGraphs();
        _layers.Clear();
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _buffers.Clear();
    }

    private GraphScaleBuffer BufferFor(Device device)
    {
        string key = device.ToString();
        if (!_buffers.TryGetValue(key, out var buffer))
        {
            buffer = new GraphScaleBuffer(device);
            _buffers.Add(key, buffer);
        }
        return buffer;
    }
}
