using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Adapters;
using LoraSdk.Cli.Infrastructure.Torch;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Lora;
using TorchSharp;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk generate</c>: runs the pipeline of a diffusers folder — the class its <c>model_index.json</c> names,
/// <c>StableDiffusionXLPipeline</c> or <c>FluxPipeline</c> (diffusers' <c>DiffusionPipeline.from_pretrained</c>) — and
/// writes a PNG, optionally the image tensor. Every <c>--lora</c> is loaded as an adapter (diffusers' default names
/// <c>default_0</c>, …) and all are combined with <c>set_adapters</c> using their weights; <c>--scale</c> is the runtime
/// LoRA scale (<c>cross_attention_kwargs["scale"]</c> for SDXL, <c>joint_attention_kwargs["scale"]</c> for Flux).
/// Options of the other pipeline (negative prompts for Flux, <c>--max-sequence-length</c> for SDXL) are usage errors.
/// Sizes are checked up front (multiple of the VAE factor — twice it for Flux's 2×2 patches —, at most
/// <see cref="MaxSide"/>, and an estimate of the memory needed against the memory available); outputs are written
/// atomically; progress goes to stderr.
/// </summary>
internal sealed class GenerateCommand : CliCommand
{
    /// <summary>The largest accepted <c>--width</c> / <c>--height</c>.</summary>
    public const int MaxSide = 16384;

    private const int SdxlSteps = 50;
    private const int FluxSteps = 28;
    private const double SdxlGuidance = 5.0;
    private const double FluxGuidance = 3.5;
    private const string SdxlClass = "StableDiffusionXLPipeline";
    private const string FluxClass = "FluxPipeline";

    private readonly Option<string> _model = CliOptions.Model(
        "Diffusers pipeline folder: model_index.json names the pipeline (StableDiffusionXLPipeline or FluxPipeline) and its component folders.");
    private readonly Option<string> _prompt = CliOptions.Text("--prompt",
        "The prompt (for both text encoders unless --prompt-2 is given). Longer than CLIP's 77 tokens (or Flux's --max-sequence-length T5 tokens): the rest is cut off, with a warning.",
        required: true);
    private readonly Option<string> _prompt2 = CliOptions.Text("--prompt-2", "The prompt for tokenizer_2/text_encoder_2 (SDXL: the second CLIP; Flux: T5; default: --prompt).");
    private readonly Option<string> _negative = CliOptions.Text("--negative-prompt",
        "SDXL only: the negative prompt; \"\" encodes the empty string. Default: none, i.e. zero negative embeddings (force_zeros_for_empty_prompt), like diffusers.");
    private readonly Option<string> _negative2 = CliOptions.Text("--negative-prompt-2", "SDXL only: the negative prompt for text_encoder_2 (default: --negative-prompt).");
    private readonly Option<int?> _steps = CliOptions.Int("--steps", "N",
        $"Denoising steps (default: {SdxlSteps} for SDXL, {FluxSteps} for Flux, like diffusers; SDXL: at most the scheduler's training timesteps, 1000).", 1, 1000);
    private readonly Option<double?> _guidance = CliOptions.Finite("--guidance", "G",
        $"SDXL: classifier-free guidance scale, on when > 1 (default {SdxlGuidance}). Flux: the distilled guidance embedded by guidance-distilled models such as FLUX.1-dev (default {FluxGuidance}).");
    private readonly Option<int?> _maxSequenceLength = CliOptions.Int("--max-sequence-length", "N",
        $"Flux only: T5 tokens the prompt is padded or cut to (default and maximum {FluxPipeline.MaxSequenceLengthLimit}).", 1, FluxPipeline.MaxSequenceLengthLimit);
    private readonly Option<int?> _height = CliOptions.Int("--height", "H",
        $"Image height in pixels up to {MaxSide}: a multiple of 8 for SDXL, of 16 for Flux (default: the model's sample size × the VAE scale factor: 1024 for SDXL and FLUX.1, 64 for the tiny SDXL model).",
        8, MaxSide, multipleOf: 8);
    private readonly Option<int?> _width = CliOptions.Int("--width", "W", $"Image width in pixels up to {MaxSide}, as --height (default: as --height).", 8, MaxSide, multipleOf: 8);
    private readonly Option<long?> _seed = CliOptions.Long("--seed", "S",
        "Seed of the initial noise, drawn like torch.Generator().manual_seed(S) on the CPU, so the same seed gives diffusers' noise (default: random; printed).");
    private readonly Option<string> _latents = CliOptions.InputFile("--latents", "file.safetensors",
        "Initial noise instead of --seed, a tensor named 'latents' like diffusers' latents=: SDXL (1, 4, H/8, W/8) before scaling by init_noise_sigma; " +
        "Flux the packed layout (1, (H/16)·(W/16), 4·C) for C latent channels.");
    private readonly Option<LoraSpec[]> _loras = CliOptions.Loras();
    private readonly Option<double?> _scale = CliOptions.Finite("--scale", "s",
        "Runtime LoRA scale for this call (SDXL: cross_attention_kwargs[\"scale\"]; Flux: joint_attention_kwargs[\"scale\"]; default: none, i.e. 1.0).");
    private readonly Option<string> _dtype = TorchOptions.DType();
    private readonly Option<string> _device = TorchOptions.Device();
    private readonly Option<int?> _threads = TorchOptions.Threads();
    private readonly Option<string> _out = CliOptions.OutputFile("--out", "file.png",
        "The PNG to write (8-bit RGB). Written to a temporary file and renamed: an existing file is replaced only by a complete one.", required: true);
    private readonly Option<string> _saveTensor = CliOptions.OutputFile("--save-tensor", "file.safetensors",
        "Also write the image as tensor 'image', (1, H, W, 3) float32 in [0, 1], like diffusers' output_type=\"np\".", required: false);
    private readonly Option<bool> _quiet = CliOptions.Quiet();

    /// <inheritdoc />
    public override string Name => "generate";

    /// <inheritdoc />
    public override string Description => "Generate an image with a diffusers SDXL or Flux pipeline folder, optionally with LoRA adapters (diffusers semantics: same seed, same image).";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "Progress and warnings go to stderr: one redrawn line on a terminal, plain lines when redirected; the result line goes to stdout.",
        "Before generating, the memory the image size needs is estimated and compared with the memory available (cgroup limits count);",
        "  a size that does not fit is refused with exit code 3.",
        "Example: lorasdk generate --model models/tiny-sdxl-prompt --prompt \"bears, pizza bites\" --seed 1000 \\",
        "           --lora tests/fixtures/loras/lora_a.safetensors:0.7 --scale 0.5 --out out/bears.png",
        "Flux:    lorasdk generate --model tests/fixtures-flux/tiny-flux --prompt \"a red fox in the snow\" --steps 4 --height 64 --width 64 \\",
        "           --max-sequence-length 32 --seed 2000 --lora tests/fixtures-flux/loras/flux_lora_a.safetensors --out out/fox.png",
    };

    /// <summary>Runs <c>generate</c> with <paramref name="args"/> (without the word <c>generate</c>); for tests.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var all = new List<string> { "generate" };
        all.AddRange(args);
        return LorasdkCli.Run(all, new CliEnvironment(stdout, stderr));
    }

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        foreach (var option in new Option[]
                 {
                     _model, _prompt, _prompt2, _negative, _negative2, _steps, _guidance, _maxSequenceLength, _height, _width, _seed, _latents,
                     _loras, _scale, _dtype, _device, _threads, _out, _saveTensor, _quiet,
                 })
            command.Options.Add(option);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        var r = ReadRequest(context);
        context.EnableProgress(!r.Quiet);
        if (r.Threads is int threads) set_num_threads(threads);
        Device device = TorchOptions.ToDevice(r.DeviceName);
        return r.ClassName == FluxClass ? GenerateFlux(context, r, device) : GenerateSdxl(context, r, device);
    }

    private static int GenerateSdxl(CliContext context, Request r, Device device)
    {
        var progress = context.Progress;
        progress.Stage($"loading model {r.Model} ({TorchOptions.Name(r.DType)}, {r.DeviceName})");
        using var pipe = StableDiffusionXLPipeline.FromPretrained(r.Model, new ModelLoadOptions { DType = r.DType, Device = device });
        pipe.Warning += progress.Warning;

        int steps = r.Steps ?? SdxlSteps;
        double guidance = r.Guidance ?? SdxlGuidance;
        int trainSteps = pipe.Scheduler.Config.NumTrainTimesteps;
        if (steps > trainSteps) throw new UsageException($"--steps must be at most {trainSteps} (the scheduler's training timesteps), not {steps}");
        var (height, width) = Size(r, pipe.DefaultSampleSize * pipe.VaeScaleFactor, pipe.VaeScaleFactor);
        if (device.type == DeviceType.CPU)
            TorchOptions.RequireMemory(context.Environment, GenerationMemoryEstimate.Bytes(pipe, height, width, guidance > 1.0),
                $"a {width}x{height} image with this model in {TorchOptions.Name(r.DType)}");

        LoadLoras(pipe.Lora, r, progress);
        using var latents = r.LatentsFile is null ? null : LoadLatents(r.LatentsFile, r.DType);
        long? seed = latents is null ? r.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue) : null;

        NativeWarnings.EmitOnce();
        progress.Stage("encoding the prompt");
        using var output = pipe.Generate(new StableDiffusionXLCallOptions
        {
            Prompt = r.Prompt,
            Prompt2 = r.Prompt2,
            NegativePrompt = r.NegativePrompt,
            NegativePrompt2 = r.NegativePrompt2,
            NumInferenceSteps = steps,
            GuidanceScale = guidance,
            Height = height,
            Width = width,
            Seed = seed,
            Latents = latents,
            CrossAttentionScale = r.Scale,
            Progress = new StepProgress(progress),
            CancellationToken = context.Cancellation,
        });
        Write(context, r, output.Images, steps, guidance, seed, path => output.SavePng(path));
        return ExitCodes.Ok;
    }

    private static int GenerateFlux(CliContext context, Request r, Device device)
    {
        var progress = context.Progress;
        progress.Stage($"loading model {r.Model} ({TorchOptions.Name(r.DType)}, {r.DeviceName})");
        using var pipe = FluxPipeline.FromPretrained(r.Model, new ModelLoadOptions { DType = r.DType, Device = device });

        int steps = r.Steps ?? FluxSteps;
        double guidance = r.Guidance ?? FluxGuidance;
        int maxSequenceLength = r.MaxSequenceLength ?? FluxPipeline.MaxSequenceLengthLimit;
        var (height, width) = Size(r, pipe.DefaultSampleSize * pipe.VaeScaleFactor, 2 * pipe.VaeScaleFactor);
        if (device.type == DeviceType.CPU)
            TorchOptions.RequireMemory(context.Environment, FluxMemoryEstimate.Bytes(pipe, height, width, maxSequenceLength),
                $"a {width}x{height} image with this model in {TorchOptions.Name(r.DType)}");
        WarnIfTruncated(pipe, r, maxSequenceLength, progress);

        LoadLoras(pipe.Lora, r, progress);
        using var latents = r.LatentsFile is null ? null : LoadLatents(r.LatentsFile, r.DType);
        if (latents is not null)
        {
            long channels = pipe.Transformer.Config.InChannels;
            long[] expected = { 1, (long)(height / 16) * (width / 16), channels };
            if (!latents.shape.SequenceEqual(expected))
                throw new CliFailure($"--latents {r.LatentsFile}: tensor 'latents' has shape ({string.Join(", ", latents.shape)}); a {width}x{height} image " +
                                     $"needs the packed layout ({string.Join(", ", expected)})");
        }
        long? seed = latents is null ? r.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue) : null;

        NativeWarnings.EmitOnce();
        progress.Stage("encoding the prompt");
        using var output = pipe.Generate(new FluxCallOptions
        {
            Prompt = r.Prompt,
            Prompt2 = r.Prompt2,
            NumInferenceSteps = steps,
            GuidanceScale = guidance,
            MaxSequenceLength = maxSequenceLength,
            Height = height,
            Width = width,
            Seed = seed,
            Latents = latents,
            JointAttentionScale = r.Scale,
            Progress = new StepProgress(progress),
            CancellationToken = context.Cancellation,
        });
        Write(context, r, output.Images, steps, guidance, seed, path => output.SavePng(path));
        return ExitCodes.Ok;
    }

    /// <summary>The requested size or the model's default, checked against the pipeline's size multiple.</summary>
    private static (int Height, int Width) Size(Request r, int defaultSide, int multiple)
    {
        int height = r.Height ?? defaultSide;
        int width = r.Width ?? defaultSide;
        if (height % multiple != 0 || width % multiple != 0)
            throw new UsageException($"--width and --height must be multiples of {multiple} for this {r.ClassName}, not {width}x{height}");
        return (height, width);
    }

    private static void LoadLoras(LoraAdapterManager lora, Request r, CliProgress progress)
    {
        if (r.Loras.Count == 0) return;
        lora.Warning += progress.Warning;
        var names = new List<string>();
        for (int i = 0; i < r.Loras.Count; i++)
        {
            progress.Stage($"loading LoRA {i + 1}/{r.Loras.Count} {r.Loras[i].Path}");
            // One name per file in every component (diffusers names each component's part by that component's count,
            // so a text-encoder part could otherwise get another file's weight in set_adapters).
            names.Add(lora.LoadLoraWeights(r.Loras[i].Path, AdapterName(i)));
        }
        lora.SetAdapters(names, r.Loras.Select(l => l.Weight).ToList());
    }

    /// <summary>The adapter name of the <paramref name="index"/>-th <c>--lora</c>: diffusers' default names.</summary>
    internal static string AdapterName(int index) => "default_" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>diffusers logs the part of a Flux prompt that CLIP (77 tokens) or T5 (max_sequence_length) cut off.</summary>
    private static void WarnIfTruncated(FluxPipeline pipe, Request r, int maxSequenceLength, CliProgress progress)
    {
        if (pipe.Tokenizer is { } clip && clip.Tokenize(r.Prompt, pipe.TokenizerMaxLength).WasTruncated)
            progress.Warning($"the prompt is longer than CLIP's {pipe.TokenizerMaxLength} tokens; the rest was truncated, as diffusers does");
        if (pipe.Tokenizer2 is { } t5 && t5.Tokenize(r.Prompt2 ?? r.Prompt, maxSequenceLength).WasTruncated)
            progress.Warning($"the T5 prompt is longer than max_sequence_length {maxSequenceLength} tokens; the rest was truncated, as diffusers does");
    }

    private static void Write(CliContext context, Request r, Tensor images, int steps, double guidance, long? seed, Action<string> savePng)
    {
        var progress = context.Progress;
        progress.Stage($"writing {r.Out}");
        savePng(r.Out);
        if (r.SaveTensor is not null)
            SafetensorsWriter.Save(r.SaveTensor, new[] { new KeyValuePair<string, Tensor>("image", images) });
        progress.Finish();

        var shape = images.shape;
        string origin = seed is long s ? $"seed {s.ToString(CultureInfo.InvariantCulture)}" : $"latents {r.LatentsFile}";
        context.Output.WriteLine($"wrote {r.Out} ({shape[2]}x{shape[1]}, {steps} steps, guidance {guidance.ToString(CultureInfo.InvariantCulture)}, {origin}" +
                                 (r.Loras.Count > 0 ? $", {r.Loras.Count} LoRA" : "") + ")");
        if (r.SaveTensor is not null) context.Output.WriteLine($"wrote {r.SaveTensor} (tensor 'image', (1, {shape[1]}, {shape[2]}, 3) float32)");
    }

    private Request ReadRequest(CliContext c)
    {
        var r = new Request
        {
            Model = c.Get(_model),
            Prompt = c.Get(_prompt),
            Prompt2 = c.Parse.GetValue(_prompt2),
            NegativePrompt = c.Parse.GetValue(_negative),
            NegativePrompt2 = c.Parse.GetValue(_negative2),
            Steps = c.Parse.GetValue(_steps),
            Guidance = c.Parse.GetValue(_guidance),
            MaxSequenceLength = c.Parse.GetValue(_maxSequenceLength),
            Height = c.Parse.GetValue(_height),
            Width = c.Parse.GetValue(_width),
            Seed = c.Parse.GetValue(_seed),
            LatentsFile = c.Parse.GetValue(_latents),
            Loras = c.Get(_loras),
            Scale = c.Parse.GetValue(_scale),
            DType = TorchOptions.ToScalarType(c.Get(_dtype)),
            DeviceName = c.Get(_device),
            Threads = c.Parse.GetValue(_threads),
            Out = c.Get(_out),
            SaveTensor = c.Parse.GetValue(_saveTensor),
            Quiet = c.Get(_quiet),
        };
        if (r.Seed is not null && r.LatentsFile is not null) throw new UsageException("--seed and --latents are exclusive");

        // Every path is checked before the model loads, so a typo costs no time and names itself.
        CliPaths.RequireFolder(r.Model, "--model", "a diffusers pipeline folder with model_index.json");
        foreach (var lora in r.Loras)
            CliPaths.RequireFileOrFolder(lora.Path, "--lora", "a LoRA .safetensors file, a folder holding one, or a PEFT adapter folder");
        if (r.LatentsFile is not null) CliPaths.RequireFile(r.LatentsFile, "--latents", "a .safetensors file with a tensor 'latents'");
        var inputs = new List<(string?, string)> { (r.Model, "--model"), (r.LatentsFile, "--latents") };
        inputs.AddRange(r.Loras.Select(l => ((string?)l.Path, "--lora")));
        CliPaths.RequireNotAnInput(r.Out, "--out", inputs);
        if (r.SaveTensor is not null) CliPaths.RequireNotAnInput(r.SaveTensor, "--save-tensor", inputs);
        CliPaths.RequireWritableFile(r.Out, "--out", "a .png file path");
        if (r.SaveTensor is not null)
        {
            CliPaths.RequireWritableFile(r.SaveTensor, "--save-tensor", "a .safetensors file path");
            if (Path.GetFullPath(r.SaveTensor) == Path.GetFullPath(r.Out)) throw new UsageException("--save-tensor and --out name the same file");
        }

        // The pipeline class decides which options apply; a wrong one is refused before anything loads.
        string className = ModelIndex.Load(r.Model).ClassName;
        if (className == FluxClass)
        {
            if (r.NegativePrompt is not null || r.NegativePrompt2 is not null)
                throw new UsageException($"--negative-prompt and --negative-prompt-2 are for SDXL pipelines; {r.Model} holds a FluxPipeline, which has no negative prompt");
        }
        else if (className == SdxlClass)
        {
            if (r.MaxSequenceLength is not null)
                throw new UsageException($"--max-sequence-length is for Flux pipelines (T5); {r.Model} holds a StableDiffusionXLPipeline");
        }
        else
        {
            throw new CliFailure($"--model {r.Model}: pipeline class '{className}' cannot be hosted; generate runs {SdxlClass} and {FluxClass} folders");
        }
        r.ClassName = className;
        return r;
    }

    private static Tensor LoadLatents(string path, ScalarType dtype)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Header.Contains("latents"))
            throw new CliFailure($"--latents {path}: no tensor named 'latents' (found: {string.Join(", ", file.Keys.Take(5))})");
        var latents = file.Load("latents", dtype);
        using (var finite = latents.isfinite().all())
        {
            if (!finite.item<bool>())
            {
                latents.Dispose();
                throw new CliFailure($"--latents {path}: tensor 'latents' contains NaN or infinite values");
            }
        }
        return latents;
    }

    /// <summary>Pipeline steps as progress; after the last step the VAE decodes.</summary>
    private sealed class StepProgress : IProgress<PipelineProgress>
    {
        private readonly CliProgress _progress;

        public StepProgress(CliProgress progress) => _progress = progress;

        public void Report(PipelineProgress value)
        {
            _progress.Step("step", value.Step, value.TotalSteps, $"(t={value.Timestep.ToString("0.##", CultureInfo.InvariantCulture)})");
            if (value.Step == value.TotalSteps) _progress.Stage("decoding with the VAE");
        }
    }

    private sealed class Request
    {
        public string ClassName { get; set; } = SdxlClass;
        public string Model { get; init; } = "";
        public string Prompt { get; init; } = "";
        public string? Prompt2 { get; init; }
        public string? NegativePrompt { get; init; }
        public string? NegativePrompt2 { get; init; }
        public int? Steps { get; init; }
        public double? Guidance { get; init; }
        public int? MaxSequenceLength { get; init; }
        public int? Height { get; init; }
        public int? Width { get; init; }
        public long? Seed { get; init; }
        public string? LatentsFile { get; init; }
        public IReadOnlyList<LoraSpec> Loras { get; init; } = Array.Empty<LoraSpec>();
        public double? Scale { get; init; }
        public ScalarType DType { get; init; }
        public string DeviceName { get; init; } = "cpu";
        public int? Threads { get; init; }
        public string Out { get; init; } = "";
        public string? SaveTensor { get; init; }
        public bool Quiet { get; init; }
    }
}
