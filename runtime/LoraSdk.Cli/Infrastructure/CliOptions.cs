using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// Option definitions shared by the commands, so that <c>--model</c>, <c>--lora</c>, <c>--out</c>, <c>--json</c>,
/// <c>--quiet</c> and numbers mean and validate the same everywhere. Numbers are parsed with the invariant culture;
/// non-finite values (nan, inf) and values out of range are usage errors that name the option and the value.
/// Each call returns a new option (System.CommandLine options belong to one command).
/// </summary>
internal static class CliOptions
{
    /// <summary><c>--json</c>: machine-readable output.</summary>
    public static Option<bool> Json(string description = "Print JSON instead of a table.") =>
        new("--json") { Description = description };

    /// <summary><c>--quiet</c> / <c>-q</c>: no progress on stderr.</summary>
    public static Option<bool> Quiet() =>
        new("--quiet", "-q") { Description = "No progress on stderr (warnings and errors are still printed)." };

    /// <summary><c>--model &lt;folder&gt;</c>: a diffusers pipeline folder (required).</summary>
    public static Option<string> Model(string? description = null) => new("--model")
    {
        Description = description ?? "Diffusers pipeline folder (model_index.json + unet/, vae/, text_encoder*/, tokenizer*/, scheduler/).",
        HelpName = "folder",
        Required = true,
    };

    /// <summary><c>--lora &lt;path&gt;[:&lt;weight&gt;]</c>, repeatable.</summary>
    public static Option<LoraSpec[]> Loras() => new("--lora")
    {
        Description = "A LoRA .safetensors file, optionally with its adapter weight after the last colon (default weight 1.0). " +
                      "Repeat for several; each is loaded as an adapter (default_0, default_1, ...) and all are combined with set_adapters. " +
                      "A folder holding one .safetensors file, or a PEFT adapter folder (adapter_config.json + adapter_model.safetensors), works too.",
        HelpName = "path[:weight]",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => Array.Empty<LoraSpec>(),
        CustomParser = result =>
        {
            var specs = new LoraSpec[result.Tokens.Count];
            for (int i = 0; i < specs.Length; i++)
            {
                if (!LoraSpec.TryParse(result.Tokens[i].Value, out specs[i], out string? error))
                {
                    result.AddError("--lora " + error);
                    return Array.Empty<LoraSpec>();
                }
            }
            return specs;
        },
    };

    /// <summary>
    /// <c>--lora &lt;path&gt;</c>, repeatable, without a weight suffix (commands whose weights come from another option):
    /// a LoRA file, a folder holding one, or a PEFT adapter folder.
    /// </summary>
    public static Option<string[]> LoraPaths(string description, bool required) => new("--lora")
    {
        Description = description,
        HelpName = "path",
        Arity = required ? ArgumentArity.OneOrMore : ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        Required = required,
        DefaultValueFactory = _ => Array.Empty<string>(),
    };

    /// <summary>A comma-separated list of finite numbers (<c>--weights 1.0,0.5</c>), null when absent.</summary>
    public static Option<double[]?> FiniteList(string name, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = Single(result);
            var parts = text.Split(',');
            var values = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!TryParseFinite(parts[i].Trim(), out values[i]))
                {
                    result.AddError($"{name} must be finite numbers separated by commas, not '{text}'");
                    return null;
                }
            }
            return values;
        },
    };

    /// <summary>An option whose value is one of <paramref name="values"/> (compared ordinally), null when absent.</summary>
    public static Option<string?> Choice(string name, string helpName, string description, params string[] values) => new(name)
    {
        Description = description + " One of: " + string.Join(", ", values) + ".",
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = Single(result);
            if (Array.IndexOf(values, text) >= 0) return text;
            result.AddError($"{name} must be one of {string.Join(", ", values)}, not '{text}'");
            return null;
        },
    };

    /// <summary>An output file option (<c>--out</c>), required unless <paramref name="required"/> is false.</summary>
    public static Option<string> OutputFile(string name, string helpName, string description, bool required) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>An input file option.</summary>
    public static Option<string> InputFile(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>A text option (a prompt); any string, also empty.</summary>
    public static Option<string> Text(string name, string description, bool required = false) =>
        new(name) { Description = description, HelpName = "text", Required = required };

    /// <summary>An integer option in [<paramref name="min"/>, <paramref name="max"/>], null when absent and without default.</summary>
    public static Option<int?> Int(string name, string helpName, string description, int min, int max, int? defaultValue = null,
        int multipleOf = 1)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                string text = Single(result);
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max
                    || value % multipleOf != 0)
                {
                    string what = multipleOf > 1 ? $"a multiple of {multipleOf} between {min} and {max}" : $"an integer between {min} and {max}";
                    result.AddError($"{name} must be {what}, not '{text}'");
                    return null;
                }
                return value;
            },
        };
        if (defaultValue is int d) option.DefaultValueFactory = _ => d;
        return option;
    }

    /// <summary>A 64-bit integer option, null when absent.</summary>
    public static Option<long?> Long(string name, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = Single(result);
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)) return value;
            result.AddError($"{name} must be an integer, not '{text}'");
            return null;
        },
    };

    /// <summary>A finite floating-point option (nan and inf are refused), null when absent and without default.</summary>
    public static Option<double?> Finite(string name, string helpName, string description, double? defaultValue = null,
        double min = double.MinValue, double max = double.MaxValue)
    {
        var option = new Option<double?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                string text = Single(result);
                if (!TryParseFinite(text, out double value))
                {
                    result.AddError($"{name} must be a finite number, not '{text}'");
                    return null;
                }
                if (value < min || value > max)
                {
                    result.AddError($"{name} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, not '{text}'");
                    return null;
                }
                return value;
            },
        };
        if (defaultValue is double d) option.DefaultValueFactory = _ => d;
        return option;
    }

    /// <summary>Parses an invariant-culture number and accepts it only when finite.</summary>
    public static bool TryParseFinite(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}
