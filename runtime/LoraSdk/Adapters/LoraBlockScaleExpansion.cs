using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Adapters;

/// <summary>
/// diffusers' <c>_maybe_expand_lora_scales_for_one_adapter</c>: turns a UNet block dict such as
/// <c>{"down": 2, "mid": 3, "up": {"block_0": 4, "block_1": [5, 6, 7]}}</c> into per-transformer weights
/// (<c>down_blocks.1.attentions.0</c> → 2, …), with diffusers' defaults (missing parts get 1.0), list rules (one value
/// repeats, otherwise exactly one value per transformer) and error messages.
/// </summary>
internal static class LoraBlockScaleExpansion
{
    /// <summary>Expands one adapter's weight for a UNet with <paramref name="layout"/>.</summary>
    /// <param name="scale">The weight (None was already replaced by 1.0 by the caller).</param>
    /// <param name="layout">Blocks with attentions and transformers per block.</param>
    /// <param name="layerExists">diffusers' check "some state-dict key contains this layer name".</param>
    /// <param name="defaultScale">The weight of parts the dict leaves out (1.0).</param>
    public static LoraModuleWeightRule Expand(AdapterWeight scale, UNetBlockLayout layout, Func<string, bool> layerExists, double defaultScale = 1.0)
    {
        if (scale.Kind == AdapterWeightKind.Number) return LoraModuleWeightRule.Uniform(scale.Number);
        if (scale.Kind == AdapterWeightKind.None) return LoraModuleWeightRule.Uniform(1.0);
        if (scale.Kind != AdapterWeightKind.Dict)
            throw new LoraException(LoraErrorKind.InvalidWeights, $"A UNet adapter weight must be a number or a dict, not {scale}.");

        // Python dict semantics: ordered entries, assignment to an existing key keeps its position.
        var scales = new List<KeyValuePair<string, AdapterWeight>>(scale.Entries);

        int midIndex = IndexOf(scales, "mid");
        if (midIndex < 0)
        {
            scales.Add(new KeyValuePair<string, AdapterWeight>("mid", AdapterWeight.Of(defaultScale)));
        }
        else if (scales[midIndex].Value.Kind == AdapterWeightKind.List)
        {
            var items = scales[midIndex].Value.Items;
            if (items.Count != 1)
                throw new LoraException(LoraErrorKind.BlockScaleLength, $"Expected 1 scales for mid, got {AdapterWeight.Count(items.Count)}.");
            scales[midIndex] = new KeyValuePair<string, AdapterWeight>("mid", items[0]);
        }

        foreach (var updown in new[] { "up", "down" })
        {
            var blocks = layout.BlocksWithAttentions(updown);
            int perBlock = layout.TransformersPerBlock(updown);
            int index = IndexOf(scales, updown);
            if (index < 0)
            {
                scales.Add(new KeyValuePair<string, AdapterWeight>(updown, AdapterWeight.Of(defaultScale)));
                index = scales.Count - 1;
            }

            // {"down": 1} → {"down": {"block_1": 1, "block_2": 1}}
            var part = scales[index].Value;
            var blockDict = new List<KeyValuePair<string, AdapterWeight>>();
            if (part.Kind != AdapterWeightKind.Dict)
            {
                foreach (int i in blocks) blockDict.Add(new KeyValuePair<string, AdapterWeight>(BlockName(i), part));
            }
            else
            {
                blockDict.AddRange(part.Entries);
            }

            // {"down": {"block_1": 1}} → {"down": {"block_1": [1, 1]}}
            var perTransformer = new List<(string Block, IReadOnlyList<AdapterWeight> Values)>();
            foreach (int i in blocks)
            {
                string block = BlockName(i);
                int bi = IndexOf(blockDict, block);
                AdapterWeight value = bi >= 0 ? blockDict[bi].Value : AdapterWeight.Of(defaultScale);
                IReadOnlyList<AdapterWeight> values;
                if (value.Kind != AdapterWeightKind.List)
                {
                    var repeated = new AdapterWeight[perBlock];
                    for (int k = 0; k < perBlock; k++) repeated[k] = value;
                    values = repeated;
                }
                else if (value.Items.Count == 1)
                {
                    var repeated = new AdapterWeight[perBlock];
                    for (int k = 0; k < perBlock; k++) repeated[k] = value.Items[0];
                    values = repeated;
                }
                else if (value.Items.Count != perBlock)
                {
                    throw new LoraException(LoraErrorKind.BlockScaleLength,
                        $"Expected {AdapterWeight.Count(perBlock)} scales for {updown}.{block}, got {AdapterWeight.Count(value.Items.Count)}.");
                }
                else
                {
                    values = value.Items;
                }
                perTransformer.Add((block, values));
            }

            // {"down": {"block_1": [1, 1]}} → {"down.block_1.0": 1, "down.block_1.1": 1}
            foreach (var (block, values) in perTransformer)
            {
                for (int t = 0; t < values.Count; t++)
                    Set(scales, updown + "." + block + "." + t.ToString(CultureInfo.InvariantCulture), values[t]);
            }
            scales.RemoveAt(IndexOf(scales, updown));
        }

        var result = new List<KeyValuePair<string, double>>(scales.Count);
        foreach (var kv in scales)
        {
            string actual = TranslateIntoActualLayerName(kv.Key);
            if (actual.Length == 0 || !layerExists(actual))
            {
                throw new LoraException(LoraErrorKind.UnknownBlock,
                    $"Can't set lora scale for layer {kv.Key}. It either doesn't exist in this unet or it has no attentions.");
            }
            if (kv.Value.Kind != AdapterWeightKind.Number)
            {
                throw new LoraException(LoraErrorKind.InvalidWeights,
                    $"The scale for layer {kv.Key} must be a number, not {kv.Value}.");
            }
            result.Add(new KeyValuePair<string, double>(actual, kv.Value.Number));
        }
        return LoraModuleWeightRule.PerLayer(result);
    }

    /// <summary>
    /// A weight for a component without block expansion (text encoders, other models): a number, or a dict whose
    /// entries are matched against module paths like diffusers' <c>get_module_weight</c>.
    /// </summary>
    public static LoraModuleWeightRule Plain(AdapterWeight scale)
    {
        switch (scale.Kind)
        {
            case AdapterWeightKind.Number:
                return LoraModuleWeightRule.Uniform(scale.Number);
            case AdapterWeightKind.None:
                return LoraModuleWeightRule.Uniform(1.0);
            case AdapterWeightKind.Dict:
                var list = new List<KeyValuePair<string, double>>();
                foreach (var kv in scale.Entries)
                {
                    if (kv.Value.Kind != AdapterWeightKind.Number)
                        throw new LoraException(LoraErrorKind.InvalidWeights, $"The scale for layer {kv.Key} must be a number, not {kv.Value}.");
                    list.Add(new KeyValuePair<string, double>(kv.Key, kv.Value.Number));
                }
                return LoraModuleWeightRule.PerLayer(list);
            default:
                throw new LoraException(LoraErrorKind.InvalidWeights, $"An adapter weight must be a number or a dict, not {scale}.");
        }
    }

    /// <summary>diffusers' <c>_translate_into_actual_layer_name</c> ("" when the name has not three dot parts).</summary>
    internal static string TranslateIntoActualLayerName(string name)
    {
        if (name == "mid") return "mid_block.attentions.0";
        var parts = name.Split('.');
        if (parts.Length != 3) return "";
        string updown = parts[0].Replace("down", "down_blocks").Replace("up", "up_blocks");
        string block = parts[1].Replace("block_", "");
        return updown + "." + block + ".attentions." + parts[2];
    }

    private static string BlockName(int i) => "block_" + i.ToString(CultureInfo.InvariantCulture);

    private static int IndexOf(List<KeyValuePair<string, AdapterWeight>> list, string key)
    {
        for (int i = 0; i < list.Count; i++) if (list[i].Key == key) return i;
        return -1;
    }

    private static void Set(List<KeyValuePair<string, AdapterWeight>> list, string key, AdapterWeight value)
    {
        int i = IndexOf(list, key);
        if (i >= 0) list[i] = new KeyValuePair<string, AdapterWeight>(key, value);
        else list.Add(new KeyValuePair<string, AdapterWeight>(key, value));
    }
}
