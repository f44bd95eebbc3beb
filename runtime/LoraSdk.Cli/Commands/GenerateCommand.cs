using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Adapters;
using LoraSdk.Cli.CommandLine;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Core;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk generate --model &lt;folder&gt; --prompt "…" [--negative-prompt "…"] [--steps N] [--guidance G]
/// [--seed S] [--latents &lt;file.safetensors&gt;] [--lora &lt;file&gt;[:&lt;weight&gt;] …] [--scale s] [--height H]
/// [--width W] [--dtype float32|bfloat16|float16] [--device cpu|cuda] [--threads N] --out &lt;png&gt; [--save-tensor &lt;file&gt;]</c>:
/// runs the SDXL pipeline of a diffusers folder. <c>--latents</c> holds a tensor named <c>latents</c> (the initial
/// noise, before scaling by <c>init_noise_sigma</c>, like diffusers' <c>latents=</c>). Every <c>--lora</c> is loaded
/// as an adapter (diffusers' default names <c>default_0</c>, …) and all are combined with <c>set_adapters</c> using
/// their weights (default 1.0). <c>--scale</c> is the runtime LoRA scale (<c>cross_attention_kwargs["scale"]</c>).
/// <c>--save-tensor</c> writes the image as a float32 tensor named <c>image</c>, (1, H, W, 3) in [0, 1] like
/// diffusers' <c>output_type="np"</c>. Progress is shown when stderr is a terminal. Exit codes: 0 ok, 1 failure
/// (one line on stderr), 2 usage error.
/// </summary>
public static class GenerateCommand
{
    /// <summary>Exit code: success.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: loading or generation failed.</summary>
    public const int ExitFailed = 1;

    /// <summary>Exit code: bad command line.</summary>
    public const int ExitUsage = 2;

    /// <summary>Usage text.</summary>
    public const string Usage =
        "usage: lorasdk generate --model <folder> --prompt \"<text>\" [--negative-prompt \"<text>\"] [--steps N] [--guidance G] " +
        "[--seed S] [--latents <file.safetensors>] [--lora <file>[:<weight>] ...] [--scale s] [--height H] [--width W] " +
        "[--dtype float32|bfloat16|float16] [--device cpu|cuda] [--threads N] --out <file.png> [--save-tensor <file.safetensors>] [--quiet]";

    private static readonly string[] ValueOptions =
    {
        "--model", "--prompt", "--negative-prompt", "--steps", "--guidance", "--seed", "--latents", "--scale", "--height",
        "--width", "--dtype", "--device", "--out", "--save-tensor", "--threads",
    };

    private static readonly string[] FlagOptions = { "--quiet", "--help", "-h" };

    /// <summary>Runs with the process's standard streams. <paramref name="args"/> excludes the word <c>generate</c>.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error, !Console.IsErrorRedirected);

    /// <summary>Runs the command writing to the given streams; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, bool showProgress = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        Request request;
        try
        {
            var (rest, loras) = ExtractLoras(args);
            var parsed = ParsedArguments.Parse(rest, ValueOptions, FlagOptions);
            if (parsed.Has("--help") || parsed.Has("-h"))
            {
                stdout.WriteLine(Usage);
                return ExitOk;
            }
            request = Request.From(parsed, loras);
        }
        catch (CommandLineException e)
        {
            stderr.WriteLine("lorasdk generate: " + e.Message);
            stderr.WriteLine(Usage);
            return ExitUsage;
        }

        try
        {
            return Execute(request, stdout, stderr, showProgress && !request.Quiet);
        }
        catch (Exception e) when (e is ModelLoadException or LoraException or LoraSdkFormatException or IOException
                                      or ArgumentException or InvalidOperationException or UnauthorizedAccessException
                                      or KeyNotFoundException or NotSupportedException)
        {
            if (showProgress) stderr.WriteLine();
            stderr.WriteLine("lorasdk generate: " + e.Message.ReplaceLineEndings(" "));
            return ExitFailed;
        }
    }

    private static int Execute(Request r, TextWriter stdout, TextWriter stderr, bool showProgress)
    {
        if (r.Threads is int threads) set_num_threads(threads);
        using var pipe = StableDiffusionXLPipeline.FromPretrained(r.Model, new ModelLoadOptions { DType = r.DType, Device = r.Device });
        LoraAdapterManager? lora = null;
        if (r.Loras.Count > 0)
        {
            lora = pipe.Lora;
            var names = new List<string>();
            foreach (var (path, _) in r.Loras) names.Add(lora.LoadLoraWeights(path));
            lora.SetAdapters(names, r.Loras.Select(l => l.Weight).ToList());
        }

        Tensor? latents = null;
        long? seed = r.Seed;
        if (r.LatentsFile is not null)
        {
            using var file = SafetensorsFile.Open(r.LatentsFile);
            if (!file.Header.Contains("latents"))
                throw new KeyNotFoundException($"{r.LatentsFile}: no tensor named 'latents'");
            latents = file.Load("latents", r.DType);
        }
        else if (seed is null)
        {
            seed = RandomNumberGenerator.GetInt32(int.MaxValue);
        }

        try
        {
            var progress = showProgress ? new TerminalProgress(stderr) : null;
            using var output = pipe.Generate(new StableDiffusionXLCallOptions
            {
                Prompt = r.Prompt,
                NegativePrompt = r.NegativePrompt,
                NumInferenceSteps = r.Steps,
                GuidanceScale = r.Guidance,
                Height = r.Height,
                Width = r.Width,
                Seed = latents is null ? seed : null,
                Latents = latents,
                CrossAttentionScale = r.Scale,
                Progress = progress,
            });
            progress?.Finish();
            output.SavePng(r.Out);
            if (r.SaveTensor is not null)
                SafetensorsWriter.Save(r.SaveTensor, new[] { new KeyValuePair<string, Tensor>("image", output.Images) });
            var shape = output.Images.shape;
            string origin = latents is null ? $"seed {seed!.Value.ToString(CultureInfo.InvariantCulture)}" : $"latents {r.LatentsFile}";
            stdout.WriteLine($"wrote {r.Out} ({shape[2]}x{shape[1]}, {r.Steps} steps, guidance {r.Guidance.ToString(CultureInfo.InvariantCulture)}, {origin}" +
                             (r.Loras.Count > 0 ? $", {r.Loras.Count} LoRA" : "") + ")");
            return ExitOk;
        }
        finally
        {
            latents?.Dispose();
        }
    }

    // --lora may repeat, which the shared parser does not allow: take every occurrence out first.
    private static (List<string> Remaining, List<string> Loras) ExtractLoras(IReadOnlyList<string> args)
    {
        var rest = new List<string>();
        var loras = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--")
            {
                rest.AddRange(args.Skip(i));
                break;
            }
            if (a == "--lora")
            {
                if (i + 1 >= args.Count) throw new CommandLineException("option --lora needs a value");
                loras.Add(args[++i]);
            }
            else if (a.StartsWith("--lora=", StringComparison.Ordinal))
            {
                loras.Add(a.Substring("--lora=".Length));
            }
            else
            {
                rest.Add(a);
            }
        }
        return (rest, loras);
    }

    /// <summary>The validated arguments of <c>lorasdk generate</c>.</summary>
    public sealed class Request
    {
        /// <summary>Pipeline folder.</summary>
        public string Model { get; private init; } = "";

        /// <summary>Prompt.</summary>
        public string Prompt { get; private init; } = "";

        /// <summary>Negative prompt, or null (zeros with <c>force_zeros_for_empty_prompt</c>).</summary>
        public string? NegativePrompt { get; private init; }

        /// <summary>Denoising steps.</summary>
        public int Steps { get; private init; }

        /// <summary>Guidance scale.</summary>
        public double Guidance { get; private init; }

        /// <summary>Seed, or null.</summary>
        public long? Seed { get; private init; }

        /// <summary>File holding the initial <c>latents</c> tensor, or null.</summary>
        public string? LatentsFile { get; private init; }

        /// <summary>LoRA files with their adapter weights.</summary>
        public IReadOnlyList<(string Path, double Weight)> Loras { get; private init; } = Array.Empty<(string, double)>();

        /// <summary>Runtime LoRA scale, or null.</summary>
        public double? Scale { get; private init; }

        /// <summary>Image height, or null for the model default.</summary>
        public int? Height { get; private init; }

        /// <summary>Image width, or null for the model default.</summary>
        public int? Width { get; private init; }

        /// <summary>Parameter dtype.</summary>
        public ScalarType DType { get; private init; }

        /// <summary>Device.</summary>
        public Device Device { get; private init; } = CPU;

        /// <summary>PNG output path.</summary>
        public string Out { get; private init; } = "";

        /// <summary>Optional path of the image tensor file.</summary>
        public string? SaveTensor { get; private init; }

        /// <summary>libtorch intra-op threads, or null for its default.</summary>
        public int? Threads { get; private init; }

        /// <summary>No progress output.</summary>
        public bool Quiet { get; private init; }

        /// <summary>Validates parsed arguments.</summary>
        /// <exception cref="CommandLineException">A missing or malformed option.</exception>
        public static Request From(ParsedArguments p, IReadOnlyList<string> loraSpecs)
        {
            if (p.Positionals.Count > 0) throw new CommandLineException($"unexpected argument '{p.Positionals[0]}'");
            string model = p.Value("--model") ?? throw new CommandLineException("missing --model <folder>");
            string prompt = p.Value("--prompt") ?? throw new CommandLineException("missing --prompt \"<text>\"");
            string output = p.Value("--out") ?? throw new CommandLineException("missing --out <file.png>");
            if (p.Value("--seed") is not null && p.Value("--latents") is not null)
                throw new CommandLineException("--seed and --latents are exclusive");
            var loras = new List<(string, double)>();
            foreach (var spec in loraSpecs) loras.Add(ParseLora(spec));
            return new Request
            {
                Model = model,
                Prompt = prompt,
                NegativePrompt = p.Value("--negative-prompt"),
                Steps = PositiveInt(p, "--steps") ?? 50,
                Guidance = Double(p, "--guidance") ?? 5.0,
                Seed = Long(p, "--seed"),
                LatentsFile = p.Value("--latents"),
                Loras = loras,
                Scale = Double(p, "--scale"),
                Height = PositiveInt(p, "--height"),
                Width = PositiveInt(p, "--width"),
                DType = (p.Value("--dtype") ?? "float32") switch
                {
                    "float32" or "fp32" => ScalarType.Float32,
                    "bfloat16" or "bf16" => ScalarType.BFloat16,
                    "float16" or "fp16" => ScalarType.Float16,
                    var d => throw new CommandLineException($"--dtype must be float32, bfloat16 or float16, not '{d}'"),
                },
                Device = (p.Value("--device") ?? "cpu") switch
                {
                    "cpu" => CPU,
                    var d when d.StartsWith("cuda", StringComparison.Ordinal) => new Device(d),
                    var d => throw new CommandLineException($"--device must be cpu or cuda[:N], not '{d}'"),
                },
                Out = output,
                SaveTensor = p.Value("--save-tensor"),
                Threads = PositiveInt(p, "--threads"),
                Quiet = p.Has("--quiet"),
            };
        }

        /// <summary>Parses <c>file[:weight]</c>; the part after the last colon is a weight only when it is a number.</summary>
        public static (string Path, double Weight) ParseLora(string spec)
        {
            if (string.IsNullOrEmpty(spec)) throw new CommandLineException("--lora needs a file");
            int colon = spec.LastIndexOf(':');
            if (colon > 0 && double.TryParse(spec.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double weight))
                return (spec.Substring(0, colon), weight);
            return (spec, 1.0);
        }

        private static int? PositiveInt(ParsedArguments p, string name)
        {
            string? v = p.Value(name);
            if (v is null) return null;
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) || i <= 0)
                throw new CommandLineException($"{name} must be a positive integer, not '{v}'");
            return i;
        }

        private static long? Long(ParsedArguments p, string name)
        {
            string? v = p.Value(name);
            if (v is null) return null;
            if (!long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l))
                throw new CommandLineException($"{name} must be an integer, not '{v}'");
            return l;
        }

        private static double? Double(ParsedArguments p, string name)
        {
            string? v = p.Value(name);
            if (v is null) return null;
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || double.IsNaN(d) || double.IsInfinity(d))
                throw new CommandLineException($"{name} must be a number, not '{v}'");
            return d;
        }
    }

    private sealed class TerminalProgress : IProgress<PipelineProgress>
    {
        private readonly TextWriter _stderr;

        public TerminalProgress(TextWriter stderr) => _stderr = stderr;

        public void Report(PipelineProgress value)
        {
            const int width = 30;
            int filled = value.Step * width / Math.Max(1, value.TotalSteps);
            _stderr.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] step {value.Step}/{value.TotalSteps} (t={value.Timestep.ToString(CultureInfo.InvariantCulture)})   ");
            _stderr.Flush();
        }

        public void Finish() => _stderr.WriteLine();
    }
}
