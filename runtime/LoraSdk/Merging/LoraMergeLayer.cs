using System;
using System.Collections.Generic;

namespace LoraSdk.Merging;

/// <summary>
/// One layer (module) to merge: the factors of every source adapter, index-aligned with the sources; null where that
/// adapter does not target the layer. PEFT gives the merged adapter exactly the layers some source targets.
/// </summary>
public sealed class LoraMergeLayer
{
    /// <summary>Creates a layer description.</summary>
    /// <param name="name">Module path (e.g. <c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c>).</param>
    /// <param name="sources">Per source adapter, its factors or null.</param>
    public LoraMergeLayer(string name, IReadOnlyList<LoraLayerFactors?> sources)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Sources = sources ?? throw new ArgumentNullException(nameof(sources));
    }

    /// <summary>Module path.</summary>
    public string Name { get; }

    /// <summary>Per source adapter (same order as the sources of the merge), its factors or null.</summary>
    public IReadOnlyList<LoraLayerFactors?> Sources { get; }
}
