using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Layers;
using static TorchSharp.torch;

/// <summary>The benches' random LoRA adapters: what both workloads (SDXL, Flux) and diffusers_bench.py's PEFT side draw.</summary>
internal static class RandomAdapters
{
    /// <summary>
    /// Rank-<paramref name="rank"/> factors, N(0, 0.01²), alpha = rank, for every layer of <paramref name="layers"/>,
    /// on <paramref name="device"/> after <c>manual_seed(seed)</c>. Free with <see cref="Free"/>.
    /// </summary>
    public static LoraAdapterDefinition Create(IEnumerable<(string Name, LoraLinear Layer)> layers, long seed, int rank, ScalarType dtype, Device device)
    {
        manual_seed(seed);
        using var noGrad = no_grad();
        var modules = layers.Select(l => new LoraModuleTensors(l.Name,
            (randn(new long[] { rank, l.Layer.InFeatures }, dtype, device) * 0.01).DetachFromDisposeScope(),
            (randn(new long[] { l.Layer.OutFeatures, rank }, dtype, device) * 0.01).DetachFromDisposeScope(), alpha: rank)).ToList();
        return new LoraAdapterDefinition(modules);
    }

    /// <summary>Disposes the factors of <paramref name="definition"/> (the engine copies what it loads).</summary>
    public static void Free(LoraAdapterDefinition definition)
    {
        foreach (var m in definition.Modules)
        {
            m.A.Dispose();
            m.B.Dispose();
        }
    }
}
