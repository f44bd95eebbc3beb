using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.IO;

/// <summary>
/// Writes tensors as a safetensors file with optional <c>__metadata__</c>. The header is padded so the data section
/// starts at a multiple of 8, and tensors are written largest element size first, so every tensor of the file is
/// aligned to its element size and loads zero-copy. The file is written through <see cref="AtomicFile"/>: a failed
/// write (<see cref="FileWriteException"/>) leaves an existing file unchanged.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Saves <paramref name="tensors"/> (any device; written from CPU copies) to <paramref name="path"/>.</summary>
    /// <exception cref="FileWriteException">The path is a directory or the file cannot be written.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = new List<KeyValuePair<string, Tensor>>(tensors);
        // Stable order: element size descending (alignment), then key (determinism).
        list.Sort((a, b) =>
        {
            int sa = (int)a.Value.ElementSize, sb = (int)b.Value.ElementSize;
            return sa != sb ? sb.CompareTo(sa) : string.CompareOrdinal(a.Key, b.Key);
        });
        var entries = new List<SafetensorsTensorEntry>(list.Count);
        foreach (var kv in list)
            entries.Add(new SafetensorsTensorEntry(kv.Key, SafetensorsDTypeMapping.FromScalarType(kv.Value.dtype), kv.Value.shape));
        byte[] header = SafetensorsHeaderWriter.Build(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            stream.Write(header, 0, header.Length);
            foreach (var kv in list)
            {
                using var scope = NewDisposeScope();
                var t = kv.Value.device_type == DeviceType.CPU ? kv.Value : kv.Value.cpu();
                t = t.is_contiguous() ? t : t.contiguous();
                if (t.numel() > 0) stream.Write(t.bytes);
            }
        });
    }
}
