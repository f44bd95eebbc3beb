using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Benchmarks.Host;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.IO;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

// usage: LoraSdk.Benchmarks.Gpu graph-check|graph-bench [options]   (CUDA graphs: see GraphCommands.cs)
//        LoraSdk.Benchmarks.Gpu flux-bench [options]                  (FLUX.1-dev-sized transformer: see FluxBenchCommand.cs)
//        LoraSdk.Benchmarks.Gpu flux-profile-step [--adapters N] [--tiny]  (one Flux step for ncu: see FluxProfileStepCommand.cs)
//        LoraSdk.Benchmarks.Gpu flux-params [--model <folder>]        (FluxPipeline parameter counts: see FluxParamsCommand.cs)
//        LoraSdk.Benchmarks.Gpu [--device cuda] [--dtypes float16,bfloat16] [--latent 128] [--iterations 20]
//        [--rank 32] [--repo <folder holding LoraSdk.sln>] [--skip-parity] [--skip-sdxl]
// 1. CUDA parity: the tiny prompt pipeline (fp32) on the device vs diffusers' CPU goldens (base and lora_a).
// 2. One SDXL-base-sized UNet step (CFG batch 2, random weights) with 0/1/2/4 rank-r adapters on every attention
//    projection (to_q/to_k/to_v/to_out.0), unfused (the engine's batched low-rank path) and materialized.
if (args.Length > 0 && GraphCommands.Names.Contains(args[0])) return GraphCommands.Run(args[0], args[1..]);
if (args.Length > 0 && args[0] == ProfileStepCommand.Name) return ProfileStepCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == FluxBenchCommand.Name) return FluxBenchCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == FluxProfileStepCommand.Name) return FluxProfileStepCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == FluxParamsCommand.Name) return FluxParamsCommand.Run(args[1..]);
var o = Options.Parse(args);
var device = new Device(o.Device);
Console.WriteLine($"LoraSdk GPU bench on {o.Device}; cuda available: {cuda.is_available()}, devices: {(cuda.is_available() ? cuda.device_count() : 0)}");
if (!o.SkipParity) Parity(o, device);
if (!o.SkipSdxl) foreach (var dtype in o.DTypes) SdxlStep(o, device, dtype);
return 0;

static void Parity(Options o, Device device)
{
    string repo = o.Repo ?? RepoFinder.Find();
    string model = Path.Combine(repo, "models", "tiny-sdxl-prompt");
    using var goldens = SafetensorsFile.Open(Path.Combine(repo, "tests", "fixtures-prompt", "goldens.safetensors"));
    using var pipe = StableDiffusionXLPipeline.FromPretrained(model, new ModelLoadOptions { DType = ScalarType.Float32, Device = device });
    var call = new StableDiffusionXLCallOptions
    {
        Prompt = "bears, pizza bites", NegativePrompt = "", NumInferenceSteps = 4, GuidanceScale = 5.0,
        Height = 64, Width = 64, Seed = 1000,
    };
    Compare("base/p0_neg_empty/image", pipe, call, goldens);
    var lora = pipe.Lora;
    lora.LoadLoraWeights(Path.Combine(repo, "tests", "fixtures", "loras", "lora_a.safetensors"), "a");
    Compare("lora_a/p0_neg_empty/image", pipe, call, goldens);
}

static void Compare(string key, StableDiffusionXLPipeline pipe, StableDiffusionXLCallOptions call, SafetensorsFile goldens)
{
    using var scope = NewDisposeScope();
    var sw = Stopwatch.StartNew();
    using var output = pipe.Generate(call);
    var image = output.Images.cpu().to(ScalarType.Float64);
    sw.Stop();
    var golden = goldens.Load(key).to(ScalarType.Float64);
    var diff = (image - golden).abs();
    double maxAbs = diff.max().item<double>(), scale = golden.abs().max().item<double>();
    long worst = diff.flatten().argmax().item<long>();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  parity {key}: max abs {maxAbs:E2}, relative to max|golden| {maxAbs / scale:E2}, worst flat index {worst} ({image.flatten()[worst].item<double>():F6} vs {golden.flatten()[worst].item<double>():F6}); {sw.Elapsed.TotalMilliseconds:F0} ms"));
}

static void SdxlStep(Options o, Device device, ScalarType dtype)
{
    using var noGrad = no_grad();
    using var w = new SdxlWorkload(device, dtype, o.Latent);
    var inputs = w.Inputs;

    double Step()
    {
        var times = new List<double>();
        for (int i = 0; i < 3 + o.Iterations; i++)
        {
            cuda.synchronize(device);
            var sw = Stopwatch.StartNew();
            using (var y = w.Step(inputs)) { }
            cuda.synchronize(device);
            sw.Stop();
            if (i >= 3) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    double baseMs = Step();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"SDXL-base UNet step, {dtype}, CFG batch 2, latent {o.Latent}x{o.Latent} ({o.Latent * 8}px), {w.Layers.Count} adapted layers, rank {o.Rank}, median of {o.Iterations}:"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  no adapter: {baseMs,8:F1} ms"));
    foreach (int k in new[] { 1, 2, 4 })
    {
        w.EnsureAdapters(k, o.Rank);
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        double unfused = Step();
        w.Component.ForwardMode = LoraForwardMode.Materialized;
        double materialized = Step();
        w.Component.ForwardMode = LoraForwardMode.Unfused;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {k} adapter(s): unfused {unfused,8:F1} ms ({unfused / baseMs:F2}x base) | materialized {materialized,8:F1} ms ({materialized / baseMs:F2}x base)"));
    }
    w.Component.UnloadLora();
    double baseAgain = Step();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  no adapter (again, after unload): {baseAgain,8:F1} ms  — the spread of the two base runs is this run's noise"));
}

internal sealed class Options
{
    public string Device { get; private set; } = "cuda";
    public ScalarType[] DTypes { get; private set; } = { ScalarType.Float16, ScalarType.BFloat16 };
    public int Latent { get; private set; } = 128;
    public int Iterations { get; private set; } = 20;
    public int Rank { get; private set; } = 32;
    public string? Repo { get; private set; }
    public bool SkipParity { get; private set; }
    public bool SkipSdxl { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--device": o.Device = Next(); break;
                case "--dtypes": o.DTypes = Next().Split(',').Select(s => s switch
                {
                    "float16" or "fp16" => ScalarType.Float16, "bfloat16" or "bf16" => ScalarType.BFloat16,
                    "float32" or "fp32" => ScalarType.Float32, _ => throw new ArgumentException($"unknown dtype {s}"),
                }).ToArray(); break;
                case "--latent": o.Latent = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--iterations": o.Iterations = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rank": o.Rank = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repo": o.Repo = Next(); break;
                case "--skip-parity": o.SkipParity = true; break;
                case "--skip-sdxl": o.SkipSdxl = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return o;
    }
}

internal static class RepoFinder
{
    /// <summary>The folder holding LoraSdk.sln, searched upwards from the working directory and from the app folder.</summary>
    public static string Find()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "LoraSdk.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("LoraSdk.sln not found; pass --repo");
    }
}
