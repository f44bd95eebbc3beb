using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Core;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk convert &lt;lora&gt; --out &lt;file.safetensors&gt;</c>: rewrites a LoRA in any format the SDK reads
/// (PEFT/diffusers, old diffusers, kohya / A1111, LyCORIS, every Flux layout diffusers reads, a PEFT adapter folder) as
/// diffusers writes LoRA files with <c>save_lora_weights</c>: keys <c>&lt;component&gt;.&lt;module&gt;.lora_A.weight</c>
/// / <c>.lora_B.weight</c> at diffusers module paths (kohya's fused Flux q/k/v split as diffusers splits them), each
/// component's PEFT config (rank, alpha, patterns) in <c>lora_adapter_metadata</c>. No model is needed: the file is
/// loaded into a stand-in built from its own layers (<see cref="LoraModuleSkeleton"/>) and saved from there, in the
/// file's dtype. The converted file loads to the same layers, ranks, scalings and outputs.
/// </summary>
internal sealed class ConvertCommand : CliCommand
{
    private readonly Argument<string> _input = new("lora")
    {
        Description = "The LoRA to convert: a .safetensors file in any supported format, a folder holding one, or a PEFT adapter folder.",
        HelpName = "lora",
    };

    private readonly Option<string> _out = CliOptions.OutputFile("--out", "file.safetensors",
        "The diffusers-format LoRA file to write (atomically: an existing file is replaced only by a complete one).", required: true);

    private readonly Option<string> _baseConfig = CliOptions.InputFile("--base-config", "config.json",
        "The base model's UNet or Flux transformer config.json, to resolve kohya / SGM key names of a model other than SDXL base or FLUX.1.");

    private readonly Option<bool> _quiet = CliOptions.Quiet();

    /// <inheritdoc />
    public override string Name => "convert";

    /// <inheritdoc />
    public override string Description =>
        "Convert a LoRA (kohya, LyCORIS, old diffusers, Flux layouts, PEFT folder, ...) to the diffusers format that save_lora_weights writes.";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "Keys that map to no module, and keys diffusers drops, are reported as warnings and not written.",
        "Example: lorasdk convert tests/fixtures/loras/lora_a_kohya.safetensors --out lora_a_diffusers.safetensors",
    };

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        command.Arguments.Add(_input);
        command.Options.Add(_out);
        command.Options.Add(_baseConfig);
        command.Options.Add(_quiet);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        string input = context.Get(_input);
        string output = context.Get(_out);
        string? baseConfig = context.Parse.GetValue(_baseConfig);
        CliPaths.RequireFileOrFolder(input, "LoRA", "a LoRA .safetensors file, a folder holding one, or a PEFT adapter folder");
        CliPaths.RequireNotAnInput(output, "--out", new[] { ((string?)input, "LoRA"), (baseConfig, "--base-config") });
        CliPaths.RequireWritableFile(output, "--out", "a .safetensors file path");
        var options = baseConfig is null
            ? LoraLoadOptions.Default
            : new LoraLoadOptions { FileModelOptions = CliConfigFiles.ReadBaseConfig(baseConfig, "--base-config", "base") };

        context.EnableProgress(!context.Get(_quiet));
        var progress = context.Progress;
        progress.Stage($"reading {input}");
        var manager = LoraModuleSkeleton.CreateManager(new[] { input }, dtype: null, options);
        manager.Warning += progress.Warning;
        const string adapter = "default";
        var result = manager.LoadLoraWeightsWithResult(input, adapter);

        progress.Stage($"writing {output}");
        string full = Path.GetFullPath(output);
        manager.SaveLoraWeights(Path.GetDirectoryName(full)!, adapter, Path.GetFileName(full));
        progress.Finish();
        string parts = string.Join(", ", result.ModuleCounts.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}"));
        context.Output.WriteLine($"wrote {output} (diffusers format; modules: {parts})");
        return ExitCodes.Ok;
    }
}
