using System;
using System.Collections.Generic;
using System.IO;

namespace LoraSdk.Core.Tests;

/// <summary>Builds small safetensors files in memory: tensors are zero bytes unless data is given.</summary>
internal sealed class SyntheticFile
{
    private readonly List<(SafetensorsTensorEntry Entry, byte[]? Data)> _tensors = new List<(SafetensorsTensorEntry, byte[]?)>();
    private readonly Dictionary<string, string> _metadata = new Dictionary<string, string>(StringComparer.Ordinal);

    public SyntheticFile Tensor(string name, params long[] shape) => Tensor(name, SafetensorsDType.F32, shape);

    public SyntheticFile Tensor(string name, SafetensorsDType dtype, long[] shape, byte[]? data = null)
    {
        _tensors.Add((new SafetensorsTensorEntry(name, dtype, shape), data));
        return this;
    }

    /// <summary>A linear LoRA module: down (r, in), up (out, r).</summary>
    public SyntheticFile Linear(string downKey, string upKey, int rank, int inFeatures, int outFeatures) =>
        Tensor(downKey, rank, inFeatures).Tensor(upKey, outFeatures, rank);

    /// <summary>A float32 scalar (shape []) holding <paramref name="value"/>.</summary>
    public SyntheticFile ScalarF32(string name, float value) =>
        Tensor(name, SafetensorsDType.F32, Array.Empty<long>(), BitConverter.GetBytes(value));

    public SyntheticFile Meta(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    public byte[] Build()
    {
        var entries = new List<SafetensorsTensorEntry>();
        foreach (var t in _tensors) entries.Add(t.Entry);
        var header = SafetensorsHeaderWriter.Build(entries, _metadata.Count > 0 ? _metadata : null);
        var ms = new MemoryStream();
        ms.Write(header, 0, header.Length);
        foreach (var t in _tensors)
        {
            long len = t.Entry.ByteLength;
            if (t.Data != null)
            {
                if (t.Data.Length != len) throw new ArgumentException($"data for {t.Entry.Name} has {t.Data.Length} bytes, expected {len}");
                ms.Write(t.Data, 0, t.Data.Length);
            }
            else ms.Write(new byte[len], 0, (int)len);
        }
        return ms.ToArray();
    }

    public LoraFileModel Read(LoraFileModelOptions? options = null) => ReadBytes(Build(), options);

    public static LoraFileModel ReadBytes(byte[] bytes, LoraFileModelOptions? options = null, string name = "synthetic.safetensors") =>
        LoraFileModel.Read(new MemoryStream(bytes, writable: false), bytes.Length, name, options);
}
