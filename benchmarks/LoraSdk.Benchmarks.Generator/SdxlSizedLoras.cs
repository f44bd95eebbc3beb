using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using LoraSdk.Core;

namespace LoraSdk.Benchmarks.Generator;

/// <summary>
/// Writes SDXL-sized kohya LoRA files: every Linear layer of the SDXL base UNet (SGM names), rank r, F16 down/up and an
/// F16 alpha scalar each (~2 200 tensors). Only the header and the alpha scalars are written; the rest of the data
/// section is a sparse hole, so 100 files cost little disk while size and hashing stay those of real files.
/// </summary>
internal static class SdxlSizedLoras
{
    public static (int Tensors, long Bytes) Write(string path, int rank, int seed)
    {
        var entries = new List<SafetensorsTensorEntry>();
        foreach (var m in UnetLayout.SdxlBase.Modules)
        {
            if (m.Kind != LoraLayerKind.Linear) continue;
            string name = "lora_unet_" + LoraKeyCanonicalizer.Underscored(m.SgmPath ?? m.Path);
            entries.Add(new SafetensorsTensorEntry(name + ".alpha", SafetensorsDType.F16, Array.Empty<long>()));
            entries.Add(new SafetensorsTensorEntry(name + ".lora_down.weight", SafetensorsDType.F16, new long[] { rank, m.InFeatures }));
            entries.Add(new SafetensorsTensorEntry(name + ".lora_up.weight", SafetensorsDType.F16, new long[] { m.OutFeatures, rank }));
        }
        var metadata = new Dictionary<string, string>
        {
            ["ss_base_model_version"] = "sdxl_base_v1-0",
            ["ss_network_dim"] = rank.ToString(CultureInfo.InvariantCulture),
            ["modelspec.trigger_phrase"] = $"style{seed}",
        };
        byte[] header = SafetensorsHeaderWriter.Build(entries, metadata);
        long dataLength = 0;
        foreach (var e in entries) dataLength += e.ByteLength;
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        f.Write(header, 0, header.Length);
        f.SetLength(header.Length + dataLength);
        long offset = header.Length;
        var alpha = BitConverter.GetBytes((ushort)0x4400); // 4.0 in F16
        foreach (var e in entries)
        {
            if (e.Shape.Length == 0)
            {
                f.Position = offset;
                f.Write(alpha, 0, 2);
            }
            offset += e.ByteLength;
        }
        return (entries.Count, header.Length + dataLength);
    }
}
