using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using LoraSdk.Cli.CommandLine;
using LoraSdk.Core;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk inspect &lt;file&gt; [--unet-config &lt;config.json&gt;] [--text-encoder-config &lt;config.json&gt;]
/// [--text-encoder-2-config &lt;config.json&gt;] [--json]</c>: prints what a LoRA safetensors file contains
/// (format, modules with rank / alpha / kind, trigger words, architectures, unmapped keys, unsupported variants).
/// Exit codes: 0 the file was read (even with unmapped keys), 1 the file (or a config) is unreadable or malformed
/// (one line on stderr), 2 usage error. Touches only the formats core, never TorchSharp.
/// </summary>
public static class InspectCommand
{
    /// <summary>Exit code: the file was read.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: the file or a config could not be read or is malformed.</summary>
    public const int ExitUnreadable = 1;

    /// <summary>Exit code: bad command line.</summary>
    public const int ExitUsage = 2;

    /// <summary>One-line usage.</summary>
    public const string Usage =
        "usage: lorasdk inspect <file.safetensors> [--unet-config <config.json>] [--text-encoder-config <config.json>] [--text-encoder-2-config <config.json>] [--json]";

    private static readonly string[] ValueOptions = { "--unet-config", "--text-encoder-config", "--text-encoder-2-config" };
    private static readonly string[] FlagOptions = { "--json", "--help", "-h" };

    /// <summary>Runs with the process's standard streams. <paramref name="args"/> excludes the word <c>inspect</c>.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command writing to the given streams; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args == null) throw new ArgumentNullException(nameof(args));
        ParsedArguments parsed;
        try
        {
            parsed = ParsedArguments.Parse(args, ValueOptions, FlagOptions);
            if (parsed.Has("--help") || parsed.Has("-h"))
            {
                stdout.WriteLine(Usage);
                return ExitOk;
            }
            if (parsed.Positionals.Count != 1)
                throw new CommandLineException(parsed.Positionals.Count == 0 ? "missing <file>" : "expected exactly one <file>");
        }
        catch (CommandLineException e)
        {
            stderr.WriteLine("lorasdk inspect: " + e.Message);
            stderr.WriteLine(Usage);
            return ExitUsage;
        }

        string path = parsed.Positionals[0];
        LoraFileModel model;
        try
        {
            var options = BuildOptions(parsed);
            model = LoraFileModel.Read(path, options);
        }
        catch (Exception e) when (e is LoraSdkFormatException || e is IOException || e is UnauthorizedAccessException)
        {
            stderr.WriteLine("lorasdk inspect: " + OneLine(e.Message));
            return ExitUnreadable;
        }

        if (parsed.Has("--json")) stdout.WriteLine(LoraInspectJson.Write(model));
        else WriteTable(stdout, model);
        return ExitOk;
    }

    private static LoraFileModelOptions BuildOptions(ParsedArguments parsed)
    {
        string? unet = parsed.Value("--unet-config");
        string? te1 = parsed.Value("--text-encoder-config");
        string? te2 = parsed.Value("--text-encoder-2-config");
        if (unet == null && te1 == null && te2 == null) return LoraFileModelOptions.Default;
        var d = LoraFileModelOptions.Default;
        return new LoraFileModelOptions
        {
            Unet = unet == null ? d.Unet : UnetLayout.FromUnetConfigJson(ReadConfig(unet), "custom"),
            TextEncoder = te1 == null ? d.TextEncoder : TextEncoderLayout.FromConfigJson(ReadConfig(te1)),
            TextEncoder2 = te2 == null ? d.TextEncoder2 : TextEncoderLayout.FromConfigJson(ReadConfig(te2)),
        };
    }

    private static string ReadConfig(string path)
    {
        try
        {
            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
        {
            throw new LoraSdkFormatException($"{path}: {e.Message}", e);
        }
    }

    private static string OneLine(string message) => message.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');

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
