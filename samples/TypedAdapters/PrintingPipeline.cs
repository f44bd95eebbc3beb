using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Typed;

namespace TypedAdapters;

/// <summary>
/// A stand-in for the SDXL host: implements the string-keyed <see cref="ILoraPipeline"/> by printing each call
/// (and checking that loaded files exist). Replace it with the engine's pipeline to run the same code for real.
/// </summary>
internal sealed class PrintingPipeline : ILoraPipeline
{
    private readonly Dictionary<string, string> _loaded = new Dictionary<string, string>(StringComparer.Ordinal);

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? prefix = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"LoRA file not found: {path}", path);
        string name = adapterName ?? $"default_{_loaded.Count}";
        _loaded[name] = path;
        string relative = Path.GetRelativePath(AppContext.BaseDirectory, path).Replace('\\', '/');
        Console.WriteLine($"load_lora_weights({relative}, adapter_name={name}, hotswap={hotswap}, prefix={prefix ?? "None"})");
        return name;
    }

    public void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null) =>
        Console.WriteLine($"set_adapters([{string.Join(", ", adapterNames)}], [{string.Join(", ", (weights ?? adapterNames.Select(_ => 1.0).ToList()).Select(F))}])");

    public void FuseLora(IReadOnlyList<string>? adapterNames = null, double loraScale = 1.0, bool safeFusing = false) =>
        Console.WriteLine($"fuse_lora([{string.Join(", ", adapterNames ?? GetActiveAdapters())}], lora_scale={F(loraScale)})");

    public void UnfuseLora() => Console.WriteLine("unfuse_lora()");

    public void EnableLoraHotswap(int targetRank) => Console.WriteLine($"enable_lora_hotswap(target_rank={targetRank})");

    public void DeleteAdapters(IReadOnlyList<string> adapterNames)
    {
        foreach (var name in adapterNames) _loaded.Remove(name);
        Console.WriteLine($"delete_adapters([{string.Join(", ", adapterNames)}])");
    }

    public void DisableLora() => Console.WriteLine("disable_lora()");

    public void EnableLora() => Console.WriteLine("enable_lora()");

    public void UnloadLoraWeights()
    {
        _loaded.Clear();
        Console.WriteLine("unload_lora_weights()");
    }

    public IReadOnlyList<string> GetActiveAdapters() => _loaded.Keys.ToList();

    public IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters() =>
        new Dictionary<string, IReadOnlyList<string>> { ["unet"] = _loaded.Keys.ToList() };

    public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName,
        string combinationType = "svd", int? svdRank = null, double? svdClamp = null, bool svdFullMatrices = true,
        double? density = null, string majoritySignMethod = "total", long? seed = null)
    {
        _loaded[adapterName] = "(merge)";
        Console.WriteLine($"add_weighted_adapter([{string.Join(", ", adapters)}], [{string.Join(", ", weights.Select(F))}], {adapterName}, " +
                          $"combination_type={combinationType}, density={(density.HasValue ? F(density.Value) : "None")})");
    }
}
