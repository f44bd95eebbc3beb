using System;
using System.Collections.Generic;

namespace LoraSdk.Merging;

/// <summary>
/// A merged adapter: its config (rank, alpha, scaling) and its factors per layer, in the order the layers were given.
/// Owns the merged tensors until <see cref="Dispose"/>, unless <see cref="TakeLayers"/> hands them to the caller.
/// </summary>
public sealed class LoraMergeResult : IDisposable
{
    private readonly IReadOnlyList<LoraMergedLayer> _layers;
    private bool _owned = true;

    internal LoraMergeResult(LoraMergePlan plan, long? seed, IReadOnlyList<LoraMergedLayer> layers)
    {
        Plan = plan;
        Seed = seed;
        _layers = layers;
    }

    /// <summary>The plan (effective combination type, rank, alpha, rsLoRA).</summary>
    public LoraMergePlan Plan { get; }

    /// <summary>The merged adapter's rank.</summary>
    public int Rank => Plan.Rank;

    /// <summary>The merged adapter's lora_alpha (= rank, as in PEFT).</summary>
    public double Alpha => Plan.Alpha;

    /// <summary>The seed the DARE types used (the given one or a fresh one); null for deterministic types.</summary>
    public long? Seed { get; }

    /// <summary>Merged factors per layer (valid until <see cref="Dispose"/> unless taken).</summary>
    public IReadOnlyList<LoraMergedLayer> Layers => _layers;

    /// <summary>
    /// Transfers ownership of every merged tensor to the caller (who must dispose them); <see cref="Dispose"/> then
    /// frees nothing.
    /// </summary>
    public IReadOnlyList<LoraMergedLayer> TakeLayers()
    {
        _owned = false;
        return _layers;
    }

    /// <summary>Disposes every merged tensor still owned by this result.</summary>
    public void Dispose()
    {
        if (!_owned) return;
        _owned = false;
        foreach (var layer in _layers)
        {
            layer.A.Dispose();
            layer.B.Dispose();
        }
    }
}
