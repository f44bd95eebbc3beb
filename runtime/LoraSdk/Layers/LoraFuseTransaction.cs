using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// Records what one <c>fuse_lora</c> call changed (weights and scalings) so that a failure in any layer — e.g. the
/// NaN/Inf check of safe fusing — returns every layer to its state before the call.
/// </summary>
internal sealed class LoraFuseTransaction : IDisposable
{
    private readonly List<(LayerAdapters Layer, Tensor? Snapshot, int MergedBefore)> _weights = new List<(LayerAdapters, Tensor?, int)>();
    private readonly List<(AdapterWeights Adapter, double Scaling)> _scalings = new List<(AdapterWeights, double)>();

    /// <summary>Remembers the weight of <paramref name="layer"/> before it was fused (null snapshot: it was unfused).</summary>
    public void Record(LayerAdapters layer, Tensor? snapshot, int mergedBefore) => _weights.Add((layer, snapshot, mergedBefore));

    /// <summary>Remembers a scaling before <c>lora_scale</c> multiplied it.</summary>
    public void RecordScaling(AdapterWeights adapter) => _scalings.Add((adapter, adapter.Scaling));

    /// <summary>Restores everything recorded, newest first.</summary>
    public void Rollback()
    {
        for (int i = _weights.Count - 1; i >= 0; i--)
        {
            var (layer, snapshot, mergedBefore) = _weights[i];
            layer.RollbackMerge(snapshot, mergedBefore);
        }
        for (int i = _scalings.Count - 1; i >= 0; i--)
            _scalings[i].Adapter.SetScaling(_scalings[i].Scaling);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, snapshot, _) in _weights) snapshot?.Dispose();
        _weights.Clear();
        _scalings.Clear();
    }
}
