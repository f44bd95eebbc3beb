using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Benchmarks.Host;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Unet;
using static TorchSharp.torch;

// usage: dotnet run -c Release --project benchmarks/LoraSdk.Benchmarks.Host -- [--models tiny,sdxl] [--dtypes float32,bfloat16]
//        [--latent N] [--sdxl-latent N] [--iterations N] [--sdxl-iterations N] [--threads N]
// On an oversubscribed machine libtorch's intra-op threads wait on each other (a 2-thread conv can be 100x slower
// than a 1-thread one when other processes hold the cores): pass --threads 1 there and compare within one run.
// One UNet step = one forward of the classifier-free-guidance batch (2 × latent), as the pipeline runs it per step.
var options = ParseArgs(args);
if (options.Threads is int threads) set_num_threads(threads);
Console.WriteLine($"LoraSdk host bench: one UNet step (CFG batch 2), CPU, torch threads {get_num_threads()}, {Environment.ProcessorCount} logical cores");
var rows = new List<(string Model, string DType, double Ms, int Latent, long Params)>();
foreach (var model in options.Models)
{
    foreach (var dtype in options.DTypes)
    {
        int latent = model == "tiny" ? options.TinyLatent : options.SdxlLatent;
        int iterations = model == "tiny" ? options.Iterations : options.SdxlIterations;
        var (ms, parameters) = BenchUNet(model, dtype, latent, iterations);
        rows.Add((model, dtype.ToString(), ms, latent, parameters));
        Console.WriteLine($"  {model,-5} {dtype,-9} latent {latent}x{latent}: {ms,10:F1} ms/step (median of {iterations}, {parameters / 1e6:F1} M params)");
    }
}
Console.WriteLine();
Console.WriteLine("ratios (same run):");
foreach (var model in options.Models)
{
    var f = rows.FirstOrDefault(r => r.Model == model && r.DType == ScalarType.Float32.ToString());
    var b = rows.FirstOrDefault(r => r.Model == model && r.DType == ScalarType.BFloat16.ToString());
    if (f.Ms > 0 && b.Ms > 0)
        Console.WriteLine($"  {model}: bfloat16 / float32 = {(b.Ms / f.Ms).ToString("F2", CultureInfo.InvariantCulture)}");
}
var tinyF = rows.FirstOrDefault(r => r.Model == "tiny" && r.DType == ScalarType.Float32.ToString());
var sdxlF = rows.FirstOrDefault(r => r.Model == "sdxl" && r.DType == ScalarType.Float32.ToString());
if (tinyF.Ms > 0 && sdxlF.Ms > 0)
    Console.WriteLine($"  float32: sdxl / tiny = {(sdxlF.Ms / tinyF.Ms).ToString("F1", CultureInfo.InvariantCulture)}");
return 0;

static (double Ms, long Params) BenchUNet(string model, ScalarType dtype, int latent, int iterations)
{
    using var noGrad = no_grad();
    UNet2DConditionModel unet;
    if (model == "tiny")
    {
        string folder = Path.Combine(FindRepositoryRoot(), "tests", "fixtures", "tiny-sdxl", "unet");
        unet = ComponentLoader.LoadUNet(folder, new ModelLoadOptions { DType = dtype });
    }
    else
    {
        unet = new UNet2DConditionModel(SdxlBaseUNetConfig.Create(), new ModelPlacement(dtype, CPU));
        RandomizeInPlace(unet);
        unet.eval();
    }
    using (unet)
    {
        var c = unet.Config;
        long parameters = unet.parameters().Sum(p => p.numel());
        using var generator = new Generator(0).manual_seed(0);
        using var sample = randn(new long[] { 2, c.InChannels, latent, latent }, generator: generator).to(dtype);
        using var context = randn(new long[] { 2, 77, c.CrossAttentionDim[0] }, generator: generator).to(dtype);
        int pooled = (c.ProjectionClassEmbeddingsInputDim ?? 0) - 6 * (c.AdditionTimeEmbedDim ?? 0);
        using var textEmbeds = randn(new long[] { 2, pooled }, generator: generator).to(dtype);
        using var timeIds = tensor(new float[] { 1024, 1024, 0, 0, 1024, 1024, 1024, 1024, 0, 0, 1024, 1024 }, new long[] { 2, 6 }).to(dtype);
        using var timestep = tensor(500f);
        using (var warm = unet.Forward(sample, timestep, context, textEmbeds, timeIds)) { }
        var times = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            var sw = Stopwatch.StartNew();
            using var output = unet.Forward(sample, timestep, context, textEmbeds, timeIds);
            sw.Stop();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], parameters);
    }
}

// Random weights without temporaries: N(0, 0.02) for matrices and kernels, ones/zeros for norms and biases.
static void RandomizeInPlace(UNet2DConditionModel unet)
{
    using var generator = new Generator(0).manual_seed(1234);
    foreach (var (name, p) in unet.named_parameters())
    {
        if (p.Dimensions >= 2) p.normal_(0, 0.02, generator);
        else if (name.EndsWith("norm.weight") || name.Contains("norm1.weight") || name.Contains("norm2.weight") || name.Contains("norm3.weight") || name.EndsWith("conv_norm_out.weight"))
            p.fill_(1.0);
        else p.zero_();
    }
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
}

static BenchOptions ParseArgs(string[] args)
{
    var o = new BenchOptions();
    for (int i = 0; i < args.Length; i++)
    {
        string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--models": o.Models = value.Split(',', StringSplitOptions.RemoveEmptyEntries); break;
            case "--dtypes": o.DTypes = value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseDType).ToArray(); break;
            case "--latent": o.TinyLatent = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--sdxl-latent": o.SdxlLatent = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--iterations": o.Iterations = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--sdxl-iterations": o.SdxlIterations = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--threads": o.Threads = int.Parse(value, CultureInfo.InvariantCulture); break;
            default: throw new ArgumentException($"unknown option {args[i]}");
        }
        i++;
    }
    return o;
}

static ScalarType ParseDType(string s) => s switch
{
    "float32" or "fp32" => ScalarType.Float32,
    "bfloat16" or "bf16" => ScalarType.BFloat16,
    "float16" or "fp16" => ScalarType.Float16,
    _ => throw new ArgumentException($"unknown dtype {s}"),
};

internal sealed class BenchOptions
{
    public string[] Models { get; set; } = { "tiny", "sdxl" };
    public ScalarType[] DTypes { get; set; } = { ScalarType.Float32, ScalarType.BFloat16 };
    public int TinyLatent { get; set; } = 32;
    public int SdxlLatent { get; set; } = 64;
    public int Iterations { get; set; } = 10;
    public int SdxlIterations { get; set; } = 2;
    public int? Threads { get; set; }
}
