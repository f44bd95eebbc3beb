using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Cli.Infrastructure.Torch;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Saving;
using static TorchSharp.torch;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk fuse</c>: the guide's fuse → unload → save_pretrained flow. Loads the pipeline, loads every
/// <c>--lora</c> (<c>default_0</c>, <c>default_1</c>, …), <c>set_adapters</c> with their weights, <c>fuse_lora</c> with
/// <c>--lora-scale</c>, <c>unload_lora_weights</c>, and writes the pipeline folder with <c>save_pretrained</c> (diffusers'
/// layout, optionally a dtype and a <c>variant</c>); the folder loads in diffusers and in <c>lorasdk generate</c>
/// without any LoRA. The library writes the folder atomically.
/// </summary>
internal sealed class FuseCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<LoraSpec[]> _loras = CliOptions.Loras();
    private readonly Option<double?> _loraScale = CliOptions.Finite("--lora-scale", "s",
        "fuse_lora's lora_scale: every adapter's contribution is multiplied by it before fusing.", defaultValue: 1.0);
    private readonly Option<string> _dtype = TorchOptions.DType(
        "The dtype the pipeline is loaded, fused and saved in (diffusers' torch_dtype): float32 (fp32), bfloat16 (bf16) or float16 (fp16).");
    private readonly Option<string?> _variant = new("--variant")
    {
        Description = "diffusers' variant: weight files are named <name>.<variant>.safetensors (e.g. fp16; load with variant=\"fp16\"). Default: none.",
        HelpName = "name",
    };
    private readonly Option<string> _device = TorchOptions.Device();
    private readonly Option<int?> _threads = TorchOptions.Threads();
    private readonly Option<string> _out = CliOptions.OutputFile("--out", "folder",
        "The pipeline folder to write (model_index.json, unet/, vae/, text_encoder*/, tokenizer*/, scheduler/). " +
        "Written to a hidden sibling folder and moved into place; an existing folder is replaced only if it is empty or a saved pipeline.",
        required: true);
    private readonly Option<bool> _quiet = CliOptions.Quiet();

    /// <inheritdoc />
    public override string Name => "fuse";

    /// <inheritdoc />
    public override string Description =>
        "Fuse LoRA adapters into a pipeline's weights and save it as a diffusers folder (load, set_adapters, fuse_lora, unload_lora_weights, save_pretrained).";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "The LoRA weights are fused in the pipeline's dtype, as diffusers fuses them in the model's dtype.",
        "Saving is implemented for StableDiffusionXLPipeline folders.",
        "Example: lorasdk fuse --model models/tiny-sdxl-prompt --lora lora_a.safetensors:0.7 --lora lora_b.safetensors:0.8 \\",
        "           --lora-scale 1.0 --out fused-pipeline",
    };

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        foreach (var option in new Option[] { _model, _loras, _loraScale, _dtype, _variant, _device, _threads, _out, _quiet })
            command.Options.Add(option);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        string model = context.Get(_model);
        var loras = context.Get(_loras);
        double loraScale = context.Get(_loraScale)!.Value;
        var dtype = TorchOptions.ToScalarType(context.Get(_dtype));
        string? variant = context.Parse.GetValue(_variant);
        string deviceName = context.Get(_device);
        int? threads = context.Parse.GetValue(_threads);
        string output = context.Get(_out);
        bool quiet = context.Get(_quiet);

        if (loras.Length == 0) throw new UsageException("--lora is required: give at least one LoRA to fuse");
        if (variant is not null && !Regex.IsMatch(variant, "^[A-Za-z0-9_-]+$"))
            throw new UsageException($"--variant must be a name of letters, digits, '-' or '_' (like fp16), not '{variant}'");
        CliPaths.RequireFolder(model, "--model", "a diffusers pipeline folder with model_index.json");
        foreach (var spec in loras)
            CliPaths.RequireFileOrFolder(spec.Path, "--lora", "a LoRA .safetensors file, a folder holding one, or a PEFT adapter folder");
        if (string.IsNullOrWhiteSpace(output)) throw new UsageException("--out needs a folder path");
        // The whole output is checked here, not minutes later when save_pretrained starts writing.
        CliPaths.RequireNotAnInput(output, "--out", loras.Select(l => ((string?)l.Path, "--lora")).Prepend((model, "--model")));
        CliOutputFolder.RequireReplaceable(output, "--out", IsSavedPipeline, "a saved pipeline (model_index.json)");
        // Only SDXL pipelines can be saved: say so before minutes of loading.
        string className = ModelIndex.Load(model).ClassName;
        if (className != "StableDiffusionXLPipeline")
            throw new CliFailure($"--model {model}: holds a {className}; fuse saves StableDiffusionXLPipeline folders (save_pretrained is not implemented for {className})");

        context.EnableProgress(!quiet);
        var progress = context.Progress;
        if (threads is int t) set_num_threads(t);
        Device device = TorchOptions.ToDevice(deviceName);

        progress.Stage($"loading model {model} ({TorchOptions.Name(dtype)}, {deviceName})");
        using var pipe = DiffusionPipeline.FromPretrained<StableDiffusionXLPipeline>(model, new ModelLoadOptions { DType = dtype, Device = device });
        var lora = pipe.Lora;
        lora.Warning += progress.Warning;
        var names = new List<string>();
        for (int i = 0; i < loras.Length; i++)
        {
            progress.Stage($"loading LoRA {i + 1}/{loras.Length} {loras[i].Path}");
            names.Add(lora.LoadLoraWeights(loras[i].Path, GenerateCommand.AdapterName(i)));
        }
        lora.SetAdapters(names, loras.Select(l => l.Weight).ToList());
        progress.Stage($"fusing {names.Count} adapter(s) (lora_scale {loraScale.ToString(CultureInfo.InvariantCulture)})");
        pipe.FuseLora(names, loraScale);
        pipe.UnloadLoraWeights();

        progress.Stage($"writing {output}");
        pipe.SavePretrained(output, new ModelSaveOptions { DType = dtype, Variant = variant });
        progress.Finish();
        context.Output.WriteLine($"wrote {output} ({pipe.ClassName}, {names.Count} LoRA(s) fused, lora_scale {loraScale.ToString(CultureInfo.InvariantCulture)}, " +
                                 $"{TorchOptions.Name(dtype)}{(variant is null ? "" : ", variant " + variant)})");
        return ExitCodes.Ok;
    }

    private static bool IsSavedPipeline(string folder) => File.Exists(Path.Combine(folder, ModelIndex.FileName));
}
