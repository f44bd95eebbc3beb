using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Core;

namespace LoraSdk.Benchmarks.Formats;

/// <summary>
/// Writes an SDXL-sized kohya LoRA: every Linear layer of the SDXL base UNet (726) with SGM names, rank 8, F16
/// down/up and an F16 alpha scalar each — 2 178 tensors, ~22 MB, about the shape of a typical SDXL LoRA.
/// </summary>
internal static class SdxlLoraFile
{
    public static (byte[] HeaderBytes, int TensorCount) Write(string path, int rank)
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
            ["ss_network_dim"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ss_tag_frequency"] = "{\"10_subject\": {\"subject\": 40, \"smiling\": 12, \"outdoors\": 9}}",
        };
        byte[] header = SafetensorsHeaderWriter.Build(entries, metadata);
        var random = new Random(1234);
        using (var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            f.Write(header, 0, header.Length);
            foreach (var e in entries)
            {
                var data = new byte[e.ByteLength];
                if (e.Shape.Length == 0) BitConverter.GetBytes((ushort)0x4400).CopyTo(data, 0); // alpha 4.0 in F16
                else random.NextBytes(data);
                f.Write(data, 0, data.Length);
            }
        }
        return (header, entries.Count);
    }
}
