using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Core;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk inspect &lt;file&gt; [--base-config &lt;config.json&gt;] [--text-encoder-config &lt;config.json&gt;]
/// [--text-encoder-2-config &lt;config.json&gt;] [--json]</c>: prints what a LoRA safetensors file contains
/// (format, modules with rank / alpha / kind per component — <c>unet</c> or, for Flux files, <c>transformer</c> — at
/// diffusers module paths, trigger words, architectures, unmapped keys, unsupported variants). <c>--base-config</c>
/// takes a UNet or a Flux transformer <c>config.json</c> (decided by its <c>_class_name</c>); <c>--unet-config</c> is
/// its alias.
/// Exit codes: 0 the file was read (even with unmapped keys), 1 the file (or a config) is unreadable or malformed
/// (one line on stderr), 2 usage error. Touches only the formats core, never TorchSharp.
/// </summary>
internal sealed class InspectCommand : CliCommand
{
    private readonly Argument<string> _file = new("file.safetensors")
    {
        Description = "The LoRA .safetensors file (pickle-based .bin/.ckpt/.pt/.pth files are refused unopened).",
        HelpName = "file.safetensors",
    };

    private readonly Option<string> _baseConfig = new("--base-config", "--unet-config")
    {
        Description = "The base model's denoiser config.json: a diffusers UNet2DConditionModel config (decides SGM block indices and adds its modules to the known paths) " +
                      "or a FluxTransformer2DModel config (by its _class_name; resolves kohya Flux names and the implied architecture). " +
                      "Default: the SDXL base UNet and FLUX.1-dev. --unet-config is an alias.",
        HelpName = "config.json",
    };

    private readonly Option<string> _textEncoderConfig = CliOptions.InputFile("--text-encoder-config", "config.json",
        "A transformers CLIP text config for text_encoder. Default: CLIP-L (12 layers).");

    private readonly Option<string> _textEncoder2Config = CliOptions.InputFile("--text-encoder-2-config", "config.json",
        "A transformers CLIP text config for text_encoder_2. Default: CLIP-G (32 layers).");

    private readonly Option<bool> _json = CliOptions.Json("Print the JSON document of docs/cli-inspect.md (stable, version 1) instead of a table.");

    /// <summary>The usage line printed with a usage error.</summary>
    public static string Usage => LorasdkCli.UsageLine(new InspectCommand().Build(new CliEnvironment(TextWriter.Null, TextWriter.Null)));

    /// <inheritdoc />
    public override string Name => "inspect";

    /// <inheritdoc />
    public override string Description =>
        "Show what a LoRA safetensors file contains: key format, every module as (component, diffusers module path) with rank, alpha and kind, " +
        "trigger words, base architecture, unmapped keys and unsupported variants. Reads the header and the .alpha scalars only.";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "Exit code 0 also when keys are unmapped, unsupported or invalid: they are reported.",
        "Example: lorasdk inspect tests/fixtures/loras/lora_a_kohya.safetensors --json",
        "         lorasdk inspect tests/fixtures-flux/loras/flux_lora_a_kohya.safetensors --base-config tests/fixtures-flux/tiny-flux/transformer/config.json --json",
    };

    /// <summary>Runs <c>inspect</c> with <paramref name="args"/> (without the word <c>inspect</c>); for tests.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var all = new List<string> { "inspect" };
        all.AddRange(args);
        return LorasdkCli.Run(all, new CliEnvironment(stdout, stderr));
    }

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        command.Arguments.Add(_file);
        command.Options.Add(_baseConfig);
        command.Options.Add(_textEncoderConfig);
        command.Options.Add(_textEncoder2Config);
        command.Options.Add(_json);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        var options = BuildOptions(context);
        var model = LoraFileModel.Read(context.Get(_file), options);
        if (context.Get(_json)) context.Output.WriteLine(LoraInspectJson.Write(model));
        else WriteTable(context.Output, model);
        return ExitCodes.Ok;
    }

    private LoraFileModelOptions BuildOptions(CliContext context)
    {
        string? baseConfig = context.Parse.GetValue(_baseConfig);
        string? te1 = context.Parse.GetValue(_textEncoderConfig);
        string? te2 = context.Parse.GetValue(_textEncoder2Config);
        if (baseConfig == null && te1 == null && te2 == null) return LoraFileModelOptions.Default;
        var d = LoraFileModelOptions.Default;
        // A Flux transformer config (by its _class_name) or a UNet config; the text encoders are added here.
        string baseOption = context.Parse.GetResult(_baseConfig)?.IdentifierToken?.Value ?? "--base-config";
        var denoiser = baseConfig == null ? d : CliConfigFiles.ReadBaseConfig(baseConfig, baseOption, "custom");
        return new LoraFileModelOptions
        {
            Unet = denoiser.Unet,
            Transformer = denoiser.Transformer,
            TextEncoder = te1 == null ? d.TextEncoder : CliConfigFiles.ReadTextEncoderConfig(te1, "--text-encoder-config"),
            TextEncoder2 = te2 == null ? d.TextEncoder2 : CliConfigFiles.ReadTextEncoderConfig(te2, "--text-encoder-2-config"),
        };
    }

    private static void WriteTable(TextWriter o, LoraFileModel m)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine("file:          " + m.SourceName);
        o.WriteLine("format:        " + m.Format + (m.Formats.Count > 1 ? " (" + string.Join(", ", m.Formats) + ")" : ""));
        o.WriteLine("tensors:       " + m.Header.Tensors.Count.ToString(ci) + ", modules: " + m.ModuleCount.ToString(ci));
        o.WriteLine("architecture:  declared " + (m.DeclaredArchitecture ?? "-")
            + (m.DeclaredArchitectureRaw != null && m.DeclaredArchitectureRaw != m.DeclaredArchitecture ? " (" + m.DeclaredArchitectureRaw + ")" : "")
            + ", implied " + (m.ImpliedArchitecture ?? "-"));
        o.WriteLine("trigger words: " + (m.TriggerWords.Count == 0 ? "-" : string.Join(", ", m.TriggerWords)));
        o.WriteLine("rsLoRA:        " + (m.UsesRsLora ? "yes" : "no") + ", DoRA: " + (m.UsesDora ? "yes" : "no"));
        foreach (var component in m.Components)
        {
            o.WriteLine();
            o.WriteLine($"{component.Key}: {component.Value.Count.ToString(ci)} modules");
            int width = 6;
            foreach (var path in component.Value.Keys) width = Math.Max(width, path.Length);
            o.WriteLine("  " + "MODULE".PadRight(width) + "  KIND          RANK     ALPHA   SCALE  IN -> OUT");
            foreach (var s in component.Value.Values)
            {
                string kind = s.Kind == LoraLayerKind.Linear ? "linear" : "conv2d " + s.KernelSize![0].ToString(ci) + "x" + s.KernelSize[1].ToString(ci);
                o.WriteLine("  " + s.ModulePath.PadRight(width) + "  " + kind.PadRight(12) + s.Rank.ToString(ci).PadLeft(6)
                    + s.Alpha.ToString("0.####", ci).PadLeft(10) + s.Scaling.ToString("0.####", ci).PadLeft(8)
                    + "  " + s.InFeatures.ToString(ci) + " -> " + s.OutFeatures.ToString(ci));
            }
        }
        List("unmapped keys", m.Unmapped, o);
        if (m.Unsupported.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("unsupported variants (not applied):");
            foreach (var u in m.Unsupported)
            {
                o.WriteLine($"  {u.Variant}: {u.Keys.Count.ToString(ci)} keys");
                foreach (var k in u.Keys) o.WriteLine("    " + k);
            }
        }
        if (m.InvalidModules.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("invalid modules (not applied):");
            foreach (var i in m.InvalidModules) o.WriteLine($"  {i.Component}: {i.ModulePath}: {i.Reason}");
        }
        List("warnings", m.Warnings, o);
    }

    private static void List(string title, IReadOnlyList<string> items, TextWriter o)
    {
        if (items.Count == 0) return;
        o.WriteLine();
        o.WriteLine($"{title} ({items.Count.ToString(CultureInfo.InvariantCulture)}):");
        foreach (var i in items) o.WriteLine("  " + i);
    }
}
