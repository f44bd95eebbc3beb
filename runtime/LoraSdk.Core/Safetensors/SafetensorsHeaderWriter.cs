using System;
using System.Collections.Generic;
using System.Text;

namespace LoraSdk.Core;

/// <summary>A tensor to be described in a header written by <see cref="SafetensorsHeaderWriter"/>.</summary>
public readonly struct SafetensorsTensorEntry
{
    /// <summary>Creates an entry.</summary>
    public SafetensorsTensorEntry(string name, SafetensorsDType dtype, long[] shape)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
    }

    /// <summary>Tensor key.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>Dimensions.</summary>
    public long[] Shape { get; }

    /// <summary>Bytes of data (element count × dtype size).</summary>
    public long ByteLength
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n = checked(n * d);
            return checked(n * SafetensorsDTypes.SizeOf(DType));
        }
    }
}

/// <summary>
/// Builds safetensors header bytes: the 8-byte little-endian length prefix and the JSON, padded with spaces so the
/// data section starts at a multiple of 8 (so every tensor of a file written in size-aligned order can be mapped
/// zero-copy). Tensors are laid out contiguously in the given order.
/// </summary>
public static class SafetensorsHeaderWriter
{
    /// <summary>Returns prefix + padded JSON; tensor data must follow in the same order.</summary>
    public static byte[] Build(IReadOnlyList<SafetensorsTensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var w = new JsonWriter();
        w.StartObject();
        if (metadata != null && metadata.Count > 0)
        {
            var keys = new List<string>(metadata.Keys);
            keys.Sort(StringComparer.Ordinal);
            w.Name("__metadata__").StartObject();
            foreach (var k in keys) w.Name(k).Value(metadata[k]);
            w.EndObject();
        }
        long offset = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (t.Name == "__metadata__" || !seen.Add(t.Name))
                throw new ArgumentException($"duplicate or reserved tensor name '{t.Name}'", nameof(tensors));
            long len = t.ByteLength;
            w.Name(t.Name).StartObject();
            w.Name("dtype").Value(SafetensorsDTypes.Name(t.DType));
            w.Name("shape").StartArray();
            foreach (long d in t.Shape) w.Value(d);
            w.EndArray();
            w.Name("data_offsets").StartArray().Value(offset).Value(offset + len).EndArray();
            w.EndObject();
            offset += len;
        }
        w.EndObject();
        byte[] json = Encoding.UTF8.GetBytes(w.ToString());
        int padded = (json.Length + 7) / 8 * 8;
        var result = new byte[8 + padded];
        byte[] len8 = BitConverter.GetBytes((ulong)padded);
        if (!BitConverter.IsLittleEndian) Array.Reverse(len8);
        Buffer.BlockCopy(len8, 0, result, 0, 8);
        Buffer.BlockCopy(json, 0, result, 8, json.Length);
        for (int i = 8 + json.Length; i < result.Length; i++) result[i] = (byte)' ';
        return result;
    }
}
