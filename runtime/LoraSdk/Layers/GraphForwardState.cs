using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// A component's graph-stable forward state while it is pinned for CUDA graphs: the pinned adapter set, every layer's
/// fixed <see cref="LayerGraphPlan"/> and the <see cref="GraphFactorStore"/>s (one per device and dtype) whose views the
/// low-rank plans read. <see cref="Refresh"/> pushes host-side changes (scalings, runtime scale, active set within the
/// pin, disable, hotswapped factors) into those device tensors in place; the component calls it after every change it
/// allows while pinned. <see cref="Hotswap"/> writes an adapter's new factors into the stores.
/// </summary>
internal sealed class GraphForwardState : IDisposable
{
    private readonly ComponentForwardState _host;
    private readonly List<LayerAdapters> _layers = new List<LayerAdapters>();
    private readonly Dictionary<string, GraphFactorStore> _stores = new Dictionary<string, GraphFactorStore>(StringComparer.Ordinal);

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
                layer.PinForGraphs(adapters, host.Mode, StoreFor);
            }
            foreach (var store in _stores.Values) store.Allocate();
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

    /// <summary>The scale buffers, one per factor store (tests read their storage).</summary>
    public IEnumerable<GraphScaleBuffer> Buffers => _stores.Values.Select(s => s.Scales);

    /// <summary>The factor stores, one per device and dtype of the pinned adapters.</summary>
    public IEnumerable<GraphFactorStore> Stores => _stores.Values;

    /// <summary>The pinned layers.</summary>
    public IReadOnlyList<LayerAdapters> Layers => _layers;

    /// <summary>Writes the current host state into the plans' device tensors (in place), then uploads changed scales.</summary>
    public void Refresh()
    {
        double runtime = _host.RuntimeScale;
        foreach (var layer in _layers) layer.RefreshGraph(runtime);
        foreach (var store in _stores.Values) store.Update();
    }

    /// <summary>
    /// Writes new factors of <paramref name="adapterName"/> into the stores (see <see cref="GraphFactorStore.Hotswap"/>)
    /// for every layer whose low-rank plan holds it; returns those layers (the caller copies the others' factors itself).
    /// Every store checks and stages its sources before any copies. The caller refreshes afterwards.
    /// </summary>
    public HashSet<LayerAdapters> Hotswap(string adapterName, IReadOnlyDictionary<LayerAdapters, (Tensor A, Tensor B)> modules, IReadOnlyCollection<LayerAdapters> zeroFill)
    {
        using var staged = Stage(adapterName, modules, zeroFill);
        Apply(staged);
        return staged.Layers;
    }

    /// <summary>
    /// Checks and stages an adapter's new factors in every store that holds it; writes nothing (see
    /// <see cref="GraphFactorStore.Stage"/>). With <paramref name="newScalings"/> (each layer's scaling after the swap)
    /// every store also builds its image, for a one-copy <see cref="TryApplyImages"/>.
    /// </summary>
    public StagedHotswap Stage(string adapterName, IReadOnlyDictionary<LayerAdapters, (Tensor A, Tensor B)> modules, IReadOnlyCollection<LayerAdapters> zeroFill,
        IReadOnlyDictionary<LayerAdapters, double>? newScalings = null)
    {
        var staged = new StagedHotswap(this, adapterName);
        try
        {
            foreach (var store in _stores.Values)
            {
                var mine = modules.Where(kv => store.Holds(kv.Key, adapterName)).ToDictionary(kv => kv.Key, kv => kv.Value);
                var zero = zeroFill.Where(l => store.Holds(l, adapterName)).ToList();
                if (mine.Count == 0 && zero.Count == 0) continue;
                staged.Stores.Add(store.Stage(adapterName, mine, zero, newScalings, _host.RuntimeScale));
                staged.Layers.UnionWith(mine.Keys);
                staged.Layers.UnionWith(zero);
            }
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    /// <summary>Writes staged factors into their stores (the caller refreshes afterwards).</summary>
    public void Apply(StagedHotswap staged)
    {
        if (!ReferenceEquals(staged.State, this)) throw new InvalidOperationException("the staged hotswap belongs to another pin state");
        foreach (var part in staged.Stores) part.Store.Apply(part);
    }

    /// <summary>
    /// The one-copy apply. When every store's image still holds the factors the swap leaves
    /// (<see cref="GraphFactorStore.ImageStaleReason"/>, checked for all before any write) it copies each image into
    /// its store — one device copy per store — then, while the copy runs, checks the adapter's scales
    /// (<see cref="GraphFactorStore.ImageScalesFit"/>): <see cref="ImageApply.Complete"/> takes the image's scales
    /// (the caller updates the adapters, then <see cref="SettleImages"/>; no refresh); <see cref="ImageApply.FactorsOnly"/>
    /// marks the factors changed (the caller updates the adapters and refreshes: the scaled B is recomputed). Else
    /// <see cref="ImageApply.Stale"/>: nothing was written (the caller takes the per-group path).
    /// </summary>
    public ImageApply TryApplyImages(StagedHotswap staged)
    {
        if (!ReferenceEquals(staged.State, this)) throw new InvalidOperationException("the staged hotswap belongs to another pin state");
        foreach (var part in staged.Stores)
            if (!_stores.ContainsValue(part.Store) || part.Store.ImageStaleReason(part) is not null) return ImageApply.Stale;
        foreach (var part in staged.Stores) part.Store.CopyImage(part);
        double runtime = _host.RuntimeScale;
        bool fit = true;
        foreach (var part in staged.Stores) fit &= part.Store.ImageScalesFit(part, runtime);
        foreach (var part in staged.Stores)
        {
            if (fit) part.Store.TakeImageScales(part, runtime);
            else part.Store.MarkFactorsChanged(staged.AdapterName);
        }
        return fit ? ImageApply.Complete : ImageApply.FactorsOnly;
    }

    /// <summary>What <see cref="TryApplyImages"/> did.</summary>
    internal enum ImageApply
    {
        /// <summary>Nothing: an image is stale (another slot changed since staging).</summary>
        Stale,

        /// <summary>The images were copied, factors and scaled B: nothing else to write.</summary>
        Complete,

        /// <summary>The images were copied, but the adapter's scales changed since staging: the scaled B needs a refresh.</summary>
        FactorsOnly,
    }

    /// <summary>After <see cref="TryApplyImages"/> and the adapters' updates: the plans record the new factor versions.</summary>
    public void SettleImages(StagedHotswap staged)
    {
        foreach (var part in staged.Stores) part.Store.SettleImage(part);
    }

    /// <summary>An adapter's new factors staged in every store that holds it, and the layers they cover.</summary>
    internal sealed class StagedHotswap : IDisposable
    {
        public StagedHotswap(GraphForwardState state, string adapterName)
        {
            State = state;
            AdapterName = adapterName;
        }

        public GraphForwardState State { get; }

        public string AdapterName { get; }

        public List<GraphFactorStore.StagedFactors> Stores { get; } = new List<GraphFactorStore.StagedFactors>();

        public HashSet<LayerAdapters> Layers { get; } = new HashSet<LayerAdapters>();

        public void Dispose()
        {
            foreach (var s in Stores) s.Dispose();
            Stores.Clear();
        }
    }

    /// <summary>Ends every layer's plan and frees the buffers.</summary>
    public void Dispose()
    {
        foreach (var layer in _layers) layer.UnpinForGraphs();
        _layers.Clear();
        foreach (var store in _stores.Values) store.Dispose();
        _stores.Clear();
    }

    private GraphFactorStore StoreFor(Device device, ScalarType dtype)
    {
        string key = device + "/" + dtype;
        if (!_stores.TryGetValue(key, out var store))
        {
            store = new GraphFactorStore(device, dtype);
            _stores.Add(key, store);
        }
        return store;
    }
}
