using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>What a pinned layer's forward computes (see <see cref="LayerGraphPlan"/>).</summary>
internal enum GraphPlanKind
{
    /// <summary>The base layer only: no pinned adapter on this layer, or adapters fused into its weight.</summary>
    BaseOnly,

    /// <summary>Base output + (A·x scaled per rank column by device scales) through B: the unfused LoRA product.</summary>
    LowRank,

    /// <summary>The base layer, whose weight holds the active adapters folded in (materialized mode), refolded in place on change.</summary>
    Folded,
}

/// <summary>
/// The forward plan of one layer of a component pinned for CUDA graphs: fixed for as long as the pin lasts, and made
/// only of device tensors whose storage never changes. A low-rank plan reads two views of its component's
/// <see cref="GraphFactorStore"/>: the stacked A of its pinned adapters (Σr, in[, kh, kw]) and their stacked B with
/// each rank column's effective scale (adapter scaling × runtime scale, 0 for an inactive adapter or a disabled layer)
/// folded in (out, Σr[, 1, 1]) — so its forward is two GEMMs (or convolutions) whatever the number of adapters, and a
/// graph captured over it replays correctly after any change the pin allows (the store rewrites those views in place).
/// </summary>
internal sealed class LayerGraphPlan : IDisposable
{
    public LayerGraphPlan(GraphPlanKind kind, LowRankWeights[] slots)
    {
        Kind = kind;
        Slots = slots;
        Offsets = new long[slots.Length];
        FactorVersions = new int[slots.Length];
        Scales = new double[slots.Length];
        long rank = 0;
        for (int i = 0; i < slots.Length; i++)
        {
            Offsets[i] = rank;
            rank += slots[i].TensorRank;
            FactorVersions[i] = -1;
            Scales[i] = double.NaN;
        }
        Rank = rank;
    }

    public GraphPlanKind Kind { get; }

    /// <summary>The pinned adapters this layer holds, in the pin's order (the rank blocks of the product).</summary>
    public LowRankWeights[] Slots { get; }

    /// <summary>Each slot's first rank column in the stacked factors and the scale view.</summary>
    public long[] Offsets { get; }

    /// <summary>The total rank of the product (sum of the slots' stored ranks).</summary>
    public long Rank { get; }

    /// <summary>The factor version of each slot as last seen by a refresh.</summary>
    public int[] FactorVersions { get; }

    /// <summary>The effective scale of each slot as last written (NaN before the first refresh).</summary>
    public double[] Scales { get; }

    /// <summary>The factor store whose views this plan reads (LowRank only).</summary>
    public GraphFactorStore? Store { get; set; }

    /// <summary>This layer's first entry in the store's scale buffer (LowRank only).</summary>
    public long ScaleOffset { get; set; }

    /// <summary>This layer's (Σr) view of the store's scales (diagnostics; the forward reads <see cref="B"/>, which has them folded in).</summary>
    public Tensor? Scale { get; set; }

    /// <summary>For <see cref="GraphPlanKind.Folded"/>: what the weight holds now (adapter, factor version, scale), in fold order.</summary>
    public (AdapterWeights Adapter, int FactorVersion, double Scale)[] Folded { get; set; } = Array.Empty<(AdapterWeights, int, double)>();

    /// <summary>The stacked A the forward reads: (Σr, in[, kh, kw]), a view of the store (LowRank only).</summary>
    public Tensor A { get; set; } = null!;

    /// <summary>The stacked, scaled B the forward reads: (out, Σr[, 1, 1]), a view of the store (LowRank only).</summary>
    public Tensor B { get; set; } = null!;

    /// <summary>Frees the views (the store frees its tensor).</summary>
    public void ReleaseViews()
    {
        A?.Dispose();
        B?.Dispose();
        Scale?.Dispose();
        A = null!;
        B = null!;
        Scale = null;
    }

    public void Dispose() => ReleaseViews();
}
