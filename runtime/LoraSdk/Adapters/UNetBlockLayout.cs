using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Adapters;

/// <summary>
/// What diffusers' UNet block-scale expansion (<c>_maybe_expand_lora_scales</c>) needs to know about a
/// <c>UNet2DConditionModel</c>: which down/up blocks have attentions and how many transformers each has
/// (<c>layers_per_block</c> down, <c>layers_per_block + 1</c> up).
/// </summary>
public sealed class UNetBlockLayout
{
    /// <summary>Creates a layout.</summary>
    /// <param name="downBlocksWithAttentions">Indices <c>i</c> of <c>down_blocks.i</c> that have <c>attentions</c>.</param>
    /// <param name="upBlocksWithAttentions">Indices <c>i</c> of <c>up_blocks.i</c> that have <c>attentions</c>.</param>
    /// <param name="layersPerBlock">The UNet config's <c>layers_per_block</c>.</param>
    public UNetBlockLayout(IReadOnlyList<int> downBlocksWithAttentions, IReadOnlyList<int> upBlocksWithAttentions, int layersPerBlock)
    {
        DownBlocksWithAttentions = downBlocksWithAttentions ?? throw new ArgumentNullException(nameof(downBlocksWithAttentions));
        UpBlocksWithAttentions = upBlocksWithAttentions ?? throw new ArgumentNullException(nameof(upBlocksWithAttentions));
        if (layersPerBlock <= 0) throw new ArgumentOutOfRangeException(nameof(layersPerBlock));
        LayersPerBlock = layersPerBlock;
    }

    /// <summary>Indices of down blocks with attentions.</summary>
    public IReadOnlyList<int> DownBlocksWithAttentions { get; }

    /// <summary>Indices of up blocks with attentions.</summary>
    public IReadOnlyList<int> UpBlocksWithAttentions { get; }

    /// <summary><c>layers_per_block</c>.</summary>
    public int LayersPerBlock { get; }

    /// <summary>Transformers per block with attentions: <c>layers_per_block</c> (down) or <c>+ 1</c> (up).</summary>
    public int TransformersPerBlock(string upOrDown) => upOrDown == "up" ? LayersPerBlock + 1 : LayersPerBlock;

    /// <summary>Blocks with attentions for <c>"down"</c> or <c>"up"</c>.</summary>
    public IReadOnlyList<int> BlocksWithAttentions(string upOrDown) => upOrDown == "up" ? UpBlocksWithAttentions : DownBlocksWithAttentions;

    /// <summary>
    /// Infers the blocks with attentions from module paths (<c>down_blocks.i.attentions</c> / <c>up_blocks.i.attentions</c>),
    /// e.g. the module names of the UNet.
    /// </summary>
    public static UNetBlockLayout FromModuleNames(IEnumerable<string> moduleNames, int layersPerBlock)
    {
        var down = new SortedSet<int>();
        var up = new SortedSet<int>();
        foreach (var name in moduleNames)
        {
            var parts = name.Split('.');
            if (parts.Length < 3 || parts[2] != "attentions") continue;
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int i)) continue;
            if (parts[0] == "down_blocks") down.Add(i);
            else if (parts[0] == "up_blocks") up.Add(i);
        }
        return new UNetBlockLayout(new List<int>(down), new List<int>(up), layersPerBlock);
    }
}
