using LoraSdk.Compatibility;
using LoraSdk.Core;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using LoraSdk.Benchmarks.Merge;
using LoraSdk.Merging;
using TorchSharp;
using static TorchSharp.torch;

// Bench command: merge two SDXL-sized adapters (700 Linear layers, rank 32) with every PEFT combination type and print
// a table of wall-clock times measured in this one run (ratios are to `linear`).
// Usage: dotnet run -c Release --project benchmarks/LoraSdk.Benchmarks.Merge -- [--rank 32] [--layers N] [--repeat N]
//        [--types linear,cat,...] [--threads N] [--reduced-svd] [--dense-svd]
//        [--only <module-name substring>] [--device cpu|cuda]
var culture = CultureInfo.InvariantCulture;
int rank = 32, repeat = 1, maxLayers = int.MaxValue, threads = 0;
bool reducedSvd = false, denseSvd = false;
string? only = null;
string deviceName = "cpu";
var types = CombinationTypes.All.ToList();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--rank": rank = int.Parse(args[++i], culture); break;
        case "--layers": maxLayers = int.Parse(args[++i], culture); break;
        case "--repeat": repeat = int.Parse(args[++i], culture); break;
        case "--threads": threads = int.Parse(args[++i], culture); break;
        case "--reduced-svd": reducedSvd = true; break;
        case "--dense-svd": denseSvd = true; break;
        case "--only": only = args[++i]; break;
        case "--device": deviceName = args[++i]; break;
        case "--types": types = args[++i].Split(',').Select(PeftNames.ParseCombinationType).ToList(); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (threads > 0) set_num_threads(threads);

var shapes = SdxlAdapterShapes.Layers().Where(s => only == null || s.Name.Contains(only, StringComparison.Ordinal)).Take(maxLayers).ToList();
var device = new Device(deviceName);
using var generator = new Generator(2024);
var owned = new List<Tensor>();
LoraLayerFactors Factors(long inF, long outF)
{
    // Kaiming-like magnitudes so pruning and sign election see realistic value spreads.
    var a = randn(new long[] { rank, inF }, generator: generator).mul_(1.0 / Math.Sqrt(inF)).to(device);
    var b = randn(new long[] { outF, rank }, generator: generator).mul_(1.0 / Math.Sqrt(rank)).to(device);
    owned.Add(a);
    owned.Add(b);
    return new LoraLayerFactors(a, b, 1.0);
}
var layers = shapes.Select(s => new LoraMergeLayer(s.Name, new LoraLayerFactors?[] { Factors(s.In, s.Out), Factors(s.In, s.Out) })).ToList();
var sources = new[] { new LoraMergeSource("x", rank, 1.0), new LoraMergeSource("y", rank, 0.5) };
long parameters = shapes.Sum(s => rank * (s.In + s.Out));

Console.WriteLine($"LoraMerger benchmark: 2 adapters × {layers.Count} Linear layers (SDXL UNet attention + feed-forward), rank {rank}, " +
    $"{parameters / 1e6:F1} M parameters per adapter; weights [1.0, 0.5], density 0.5, svd_rank = {rank}, " +
    $"svd_full_matrices = {(!reducedSvd).ToString().ToLowerInvariant()}, svd algorithm {(denseSvd ? "dense (PEFT's)" : "auto")}; torch threads {get_num_threads()}, {Environment.ProcessorCount} logical CPUs, float32 on {deviceName}.");

LoraMergeOptions Options(CombinationType type) => new LoraMergeOptions
{
    CombinationType = type, Density = 0.5, Seed = 0, SvdFullMatrices = !reducedSvd,
    SvdAlgorithm = denseSvd ? SvdAlgorithm.Dense : SvdAlgorithm.Auto,
    Initialization = MergedAdapterInitialization.KaimingUniform,
};

// Warm-up: every type once on two layers (JIT, libtorch kernels, MKL/LAPACK initialisation).
foreach (var type in types)
{
    using var warm = LoraMerger.Merge(sources, layers.Take(2).ToList(), Options(type));
}

var rows = new List<(CombinationType Type, double Best, double Median)>();
foreach (var type in types)
{
    var times = new List<double>();
    for (int r = 0; r < repeat; r++)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
        var sw = Stopwatch.StartNew();
        using (var result = LoraMerger.Merge(sources, layers, Options(type)))
        {
            if (device.type == DeviceType.CUDA) cuda.synchronize(device);
            sw.Stop();
            if (result.Layers.Count != layers.Count) throw new InvalidOperationException("merge lost layers");
        }
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    rows.Add((type, times[0], times[times.Count / 2]));
    Console.Error.WriteLine($"  {CombinationTypes.PeftName(type)}: {times[0]:F3} s");
}

double baseline = rows.FirstOrDefault(r => r.Type == CombinationType.Linear).Median;
Console.WriteLine();
Console.WriteLine("| combination_type | merged rank | median s | best s | ms / layer | × linear |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
foreach (var (type, best, median) in rows)
{
    int mergedRank = type == CombinationType.Cat ? 2 * rank : rank;
    string ratio = baseline > 0 ? (median / baseline).ToString("F1", culture) : "n/a";
    Console.WriteLine(string.Format(culture, "| {0} | {1} | {2:F3} | {3:F3} | {4:F2} | {5} |",
        CombinationTypes.PeftName(type), mergedRank, median, best, 1000 * median / layers.Count, ratio));
}
foreach (var t in owned) t.Dispose();
return 0;
