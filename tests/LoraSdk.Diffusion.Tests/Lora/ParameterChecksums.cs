using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Adapters;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// SHA-256 of the bytes of every base parameter and every LoRA tensor (plus each adapter's scaling and the active
/// lists) of a manager's components, keyed by name: equal dictionaries mean a call changed nothing, bit for bit.
/// </summary>
internal static class ParameterChecksums
{
    public static IReadOnlyDictionary<string, byte[]> Of(LoraAdapterManager manager)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var c in manager.Components)
        {
            foreach (var (name, p) in c.Module.named_parameters()) result[$"{c.Name}.{name}"] = Hash(p);
            foreach (var adapter in c.ListAdapters())
            {
                foreach (var (path, w) in c.GetAdapterWeights(adapter))
                {
                    if (w is LycorisWeights lycoris)
                    {
                        foreach (var (role, t) in lycoris.Tensors) result[$"{c.Name}.{path}.{role}.{adapter}"] = Hash(t);
                    }
                    else
                    {
                        result[$"{c.Name}.{path}.lora_A.{adapter}"] = Hash(((LowRankWeights)w).A);
                        result[$"{c.Name}.{path}.lora_B.{adapter}"] = Hash(((LowRankWeights)w).B);
                    }
                    result[$"{c.Name}.{path}.scaling.{adapter}"] = BitConverter.GetBytes(w.Scaling);
                }
            }
            result[$"{c.Name}.active"] = System.Text.Encoding.UTF8.GetBytes(string.Join(",", c.GetActiveAdapters()));
            result[$"{c.Name}.adapters"] = System.Text.Encoding.UTF8.GetBytes(string.Join(",", c.ListAdapters()));
        }
        return result;
    }

    public static byte[] Hash(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return SHA256.HashData(cpu.bytes);
    }

    public static void AssertEqual(IReadOnlyDictionary<string, byte[]> before, IReadOnlyDictionary<string, byte[]> after)
    {
        Assert.Equal(before.Keys, after.Keys);
        var changed = before.Keys.Where(k => !before[k].AsSpan().SequenceEqual(after[k])).ToList();
        Assert.True(changed.Count == 0, $"{changed.Count} tensor(s)/state changed, e.g. {string.Join(", ", changed.Take(5))}");
    }
}
