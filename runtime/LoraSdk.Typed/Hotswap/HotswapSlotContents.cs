using System.Collections.Generic;
using System.Runtime.CompilerServices;
using LoraSdk.Core;

namespace LoraSdk.Typed;

/// <summary>
/// Which typed adapter is in each hotswap slot of a pipeline (slot name = group name). Kept per
/// <see cref="ILoraPipeline"/> instance, not per typed view, so every <see cref="TypedLoraPipeline{TBase}"/> over one
/// pipeline and every <see cref="HotswapSlot{TBase, TGroup}"/> agree; updated only after the pipeline's load
/// succeeded (a failed hotswap leaves the old adapter in the slot, in the engine and here). Loads through the string
/// API (<see cref="ILoraPipeline.LoadLoraWeights"/> with <c>hotswap: true</c>) name no typed adapter and are not seen.
/// </summary>
internal static class HotswapSlotContents
{
    private static readonly ConditionalWeakTable<ILoraPipeline, Dictionary<string, LoraAdapter>> Slots =
        new ConditionalWeakTable<ILoraPipeline, Dictionary<string, LoraAdapter>>();

    public static void Set(ILoraPipeline pipeline, string slot, LoraAdapter adapter)
    {
        var slots = Slots.GetValue(pipeline, _ => new Dictionary<string, LoraAdapter>());
        lock (slots) slots[slot] = adapter;
    }

    public static LoraAdapter? Get(ILoraPipeline pipeline, string slot)
    {
        if (!Slots.TryGetValue(pipeline, out var slots)) return null;
        lock (slots) return slots.TryGetValue(slot, out var adapter) ? adapter : null;
    }
}
