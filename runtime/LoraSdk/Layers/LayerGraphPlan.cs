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
/// only of device tensors whose storage never changes — the adapters' own A/B (hotswap copies into them), a stacked
/// copy of them for several adapters (rebuilt in place), and a view of the component's <see cref="GraphScaleBuffer"/>
/// holding each rank column's effective scale (adapter scaling × runtime scale, 0 for an inactive adapter or a disabled
/// layer). A graph captured over the forward replays correctly after any change the pin allows.
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

    /// <summary>The factor version of each slot as last copied into the stacked factors.</summary>
    public int[] FactorVersions { get; }

    /// <summary>The effective scale of each slot as last written (NaN before the first refresh).</summary>
    public double[] Scales { get; }

    /// <summary>Stacked A (R, in[, kh, kw]) for two or more slots, else null (the single slot's A is read).</summary>
    public Tensor? StackedA { get; set; }

    /// <summary>Stacked B (out, R) for two or more slots, else null.</summary>
    public Tensor? StackedB { get; set; }

    /// <summary>The scale buffer and this layer's first entry in it (LowRank only).</summary>
    public GraphScaleBuffer? Buffer { get; set; }

    public long BufferOffset { get; set; }

    /// <summary>This layer's (R) view of the scale buffer (LowRank only).</summary>
    public Tensor? Scale { get; set; }

    /// <summary>For <see cref="GraphPlanKind.Folded"/>: what the weight holds now (adapter, factor version, scale), in fold order.</summary>
    public (AdapterWeights Adapter, int FactorVersion, double Scale)[] Folded { get; set; } = Array.Empty<(AdapterWeights, int, double)>();

    /// <summary>The A the forward reads.</summary>
    public Tensor A => StackedA ?? Slots[0].A;

    /// <summary>The B the forward reads.</summary>
    public Tensor B => StackedB ?? Slots[0].B;

    public void Dispose()
    {
        StackedA?.Dispose();
        StackedB?.Dispose();
        Scale?.Dispose();
        StackedA = null;
        StackedB = null;
        Scale = null;
    }
}
