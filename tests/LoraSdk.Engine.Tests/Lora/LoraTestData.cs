using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Adapters;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>Synthetic adapters (in memory and as PEFT-keyed files) and bitwise checksums for the engine tests.</summary>
internal static class LoraTestData
{
    /// <summary>Seeded random A/B for every layer of <see cref="TinyModel"/> (or the given paths).</summary>
    public static LoraAdapterDefinition Adapter(int rank, double alpha, long seed, IEnumerable<string>? paths = null, bool useRsLora = false)
    {
        var wanted = paths?.ToHashSet();
        using var g = new Generator((ulong)seed);
        var modules = new List<LoraModuleTensors>();
        foreach (var (path, down, up) in TinyModel.Shapes(rank))
        {
            if (wanted != null && !wanted.Contains(path)) continue;
            modules.Add(new LoraModuleTensors(path, randn(down, ScalarType.Float32, generator: g).mul_(0.3), randn(up, ScalarType.Float32, generator: g).mul_(0.3), alpha));
        }
        return new LoraAdapterDefinition(modules, useRsLora: useRsLora);
    }

    /// <summary>Writes <paramref name="tensors"/> (keys as given) to a temp safetensors file.</summary>
    public static string WriteFile(TempDir dir, string name, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string path = Path.Combine(dir.Path, name);
        SafetensorsWriter.Save(path, tensors, metadata);
        return path;
    }

    /// <summary>PEFT keys (<c>unet.&lt;module&gt;.lora_A.weight</c>) for an adapter of <see cref="TinyModel"/>.</summary>
    public static List<KeyValuePair<string, Tensor>> PeftTensors(int rank, long seed, IEnumerable<string>? paths = null)
    {
        var def = Adapter(rank, rank, seed, paths);
        var list = new List<KeyValuePair<string, Tensor>>();
        foreach (var m in def.Modules)
        {
            list.Add(new KeyValuePair<string, Tensor>("unet." + m.ModulePath + ".lora_A.weight", m.A));
            list.Add(new KeyValuePair<string, Tensor>("unet." + m.ModulePath + ".lora_B.weight", m.B));
        }
        return list;
    }

    public static LoraComponent Component(TinyModel model) => new LoraComponent("unet", model, new LoraComponentOptions { Kind = LoraComponentKind.Denoiser });

    public static (Tensor X, Tensor Image) Inputs(long seed = 99)
    {
        using var g = new Generator((ulong)seed);
        return (randn(new long[] { 3, 8 }, generator: g), randn(new long[] { 2, 4, 5, 5 }, generator: g));
    }

    public static byte[] Hash(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return SHA256.HashData(cpu.bytes);
    }

    /// <summary>Bitwise fingerprint of every parameter, LoRA tensor, scaling and active list of a component.</summary>
    public static Dictionary<string, string> Checksums(LoraComponent c)
    {
        var d = new Dictionary<string, string>();
        foreach (var (name, p) in c.Module.named_parameters()) d[name] = Convert.ToHexString(Hash(p));
        foreach (var adapter in c.ListAdapters())
        {
            foreach (var (path, w) in c.GetAdapterWeights(adapter))
            {
                if (w is LycorisWeights lycoris)
                {
                    foreach (var (role, t) in lycoris.Tensors) d[$"{path}.{role}.{adapter}"] = Convert.ToHexString(Hash(t));
                }
                else
                {
                    d[$"{path}.A.{adapter}"] = Convert.ToHexString(Hash(((LowRankWeights)w).A));
                    d[$"{path}.B.{adapter}"] = Convert.ToHexString(Hash(((LowRankWeights)w).B));
                }
                d[$"{path}.s.{adapter}"] = w.Scaling.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        d["active"] = string.Join(",", c.GetActiveAdapters());
        d["adapters"] = string.Join(",", c.ListAdapters());
        d["merged"] = string.Join(",", c.GetMergedAdapters());
        return d;
    }

    /// <summary>max |a − b| / max(max |b|, 1e-12), in float64.</summary>
    public static double Relative(Tensor actual, Tensor expected)
    {
        using var a = actual.to(ScalarType.Float64);
        using var e = expected.to(ScalarType.Float64);
        using var diff = (a - e).abs().max();
        using var scale = e.abs().max();
        return diff.item<double>() / Math.Max(scale.item<double>(), 1e-12);
    }
}

/// <summary>A temp folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lorasdk-engine-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
