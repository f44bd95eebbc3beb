using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// Writes a model's weights as diffusers / transformers do: <c>&lt;name&gt;[.variant].safetensors</c> with metadata
/// <c>{"format": "pt"}</c>, or — above the shard size — shards <c>&lt;name&gt;[.variant]-00001-of-0000N.safetensors</c>
/// and the index <c>&lt;name&gt;.safetensors.index[.variant].json</c> (<c>{"metadata": {"total_size": …},
/// "weight_map": {key: shard}}</c>). Tensors are converted to the requested dtype one at a time while writing.
/// </summary>
internal static class WeightFileWriter
{
    /// <summary>diffusers' / transformers' <c>_add_variant</c>: the variant goes before the last extension.</summary>
    public static string AddVariant(string fileName, string? variant)
    {
        if (variant is null) return fileName;
        int dot = fileName.LastIndexOf('.');
        return fileName.Substring(0, dot) + "." + variant + fileName.Substring(dot);
    }

    /// <summary>Writes <paramref name="tensors"/> (state-dict order) into <paramref name="folder"/>; returns the file names written.</summary>
    public static IReadOnlyList<string> Write(string folder, string baseName, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
        ModelSaveOptions options, long defaultMaxShardSize)
    {
        long maxShardSize = options.MaxShardSize ?? defaultMaxShardSize;
        string weightsName = AddVariant(baseName + ".safetensors", options.Variant);
        // huggingface_hub's split_torch_state_dict_into_shards: fill shards in order; a tensor larger than the limit
        // gets its own shard; start a new shard when the next tensor would tip the current one over.
        var shards = new List<List<KeyValuePair<string, Tensor>>>();
        var current = new List<KeyValuePair<string, Tensor>>();
        long currentSize = 0, totalSize = 0;
        foreach (var kv in tensors)
        {
            long size = ByteLength(kv.Value, options.DType);
            totalSize += size;
            if (size > maxShardSize)
            {
                shards.Add(new List<KeyValuePair<string, Tensor>> { kv });
                continue;
            }
            if (currentSize + size > maxShardSize)
            {
                shards.Add(current);
                current = new List<KeyValuePair<string, Tensor>>();
                currentSize = 0;
            }
            current.Add(kv);
            currentSize += size;
        }
        if (current.Count > 0) shards.Add(current);
        if (shards.Count <= 1)
        {
            WriteFile(Path.Combine(folder, weightsName), tensors, options.DType);
            return new[] { weightsName };
        }

        string pattern = weightsName.Substring(0, weightsName.Length - ".safetensors".Length);
        var written = new List<string>();
        var weightMap = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string shardName = $"{pattern}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            WriteFile(Path.Combine(folder, shardName), shards[i], options.DType);
            foreach (var kv in shards[i]) weightMap[kv.Key] = shardName;
            written.Add(shardName);
        }
        string indexName = AddVariant(baseName + ".safetensors.index.json", options.Variant);
        var index = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["metadata"] = new SortedDictionary<string, object?>(StringComparer.Ordinal) { ["total_size"] = totalSize },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(folder, indexName), PythonJsonWriter.Dumps(index) + "\n", new System.Text.UTF8Encoding(false));
        written.Add(indexName);
        return written;
    }

    private static long ByteLength(Tensor t, ScalarType? dtype)
    {
        long elementSize = SafetensorsDTypes.SizeOf(SafetensorsDTypeMapping.FromScalarType(dtype ?? t.dtype));
        return t.numel() * elementSize;
    }

    /// <summary>One safetensors file; tensors ordered by element size (largest first) then key, as Python's safetensors orders them.</summary>
    private static void WriteFile(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, ScalarType? dtype)
    {
        var list = tensors.Select(kv => (kv.Key, Tensor: kv.Value, DType: SafetensorsDTypeMapping.FromScalarType(dtype ?? kv.Value.dtype))).ToList();
        list.Sort((a, b) =>
        {
            int sa = SafetensorsDTypes.SizeOf(a.DType), sb = SafetensorsDTypes.SizeOf(b.DType);
            return sa != sb ? sb.CompareTo(sa) : string.CompareOrdinal(a.Key, b.Key);
        });
        var entries = list.Select(e => new SafetensorsTensorEntry(e.Key, e.DType, e.Tensor.shape)).ToList();
        byte[] header = SafetensorsHeaderWriter.Build(entries, new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" });
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(header, 0, header.Length);
        foreach (var e in list)
        {
            using var scope = NewDisposeScope();
            var t = e.Tensor.detach();
            var target = SafetensorsDTypeMapping.ToScalarType(e.DType);
            if (t.dtype != target) t = t.to_type(target);
            if (t.device_type != DeviceType.CPU) t = t.cpu();
            if (!t.is_contiguous()) t = t.contiguous();
            if (t.numel() > 0) stream.Write(t.bytes);
        }
    }
}
