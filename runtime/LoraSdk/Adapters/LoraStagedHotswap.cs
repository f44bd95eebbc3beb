using System;
using LoraSdk.Layers;

namespace LoraSdk.Adapters;

/// <summary>
/// A hotswap checked and staged ahead of time by <see cref="LoraComponent.StageHotswap"/>: the new factors of one adapter
/// gathered on the device in the layout of a graph pin's factor store, together with an image of the store's whole flat
/// tensor as the swap leaves it, applied with <see cref="LoraComponent.ApplyHotswap"/> (one device copy while nothing
/// else changed since staging). Reusable while the pin lasts; dispose it to free the image (a full copy of the flat
/// factor tensor).
/// </summary>
public sealed class LoraStagedHotswap : IDisposable
{
    private readonly LoraPreparedLoad _prepared;
    private readonly GraphForwardState.StagedHotswap _staged;
    private readonly StagedHotswapRecords _records;
    private bool _disposed;

    internal LoraStagedHotswap(LoraComponent owner, LoraPreparedLoad prepared, GraphForwardState.StagedHotswap staged, StagedHotswapRecords records)
    {
        Owner = owner;
        _prepared = prepared;
        _staged = staged;
        _records = records;
    }

    /// <summary>The adapter the swap writes into.</summary>
    public string AdapterName => _prepared.AdapterName;

    /// <summary>The component it was staged for.</summary>
    public string Component => Owner.Name;

    /// <summary>True while it can be applied: not disposed, and the pin it was staged for still holds the component.</summary>
    public bool CanApply => !_disposed && ReferenceEquals(Owner.GraphState, _staged.State);

    internal LoraComponent Owner { get; }

    /// <summary>The staged factors and images per store (tests).</summary>
    internal GraphForwardState.StagedHotswap Staged => _staged;

    internal (LoraPreparedLoad Prepared, GraphForwardState.StagedHotswap Staged, StagedHotswapRecords Records) Parts()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(LoraStagedHotswap));
        return (_prepared, _staged, _records);
    }

    /// <summary>Frees the staged factors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _staged.Dispose();
        _prepared.Dispose();
    }
}
