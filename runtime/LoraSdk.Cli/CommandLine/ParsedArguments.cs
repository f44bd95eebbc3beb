using System;
using System.Collections.Generic;

namespace LoraSdk.Cli.CommandLine;

/// <summary>A usage error (unknown option, missing value, wrong number of arguments); exit code 2.</summary>
public sealed class CommandLineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommandLineException(string message) : base(message) { }
}

/// <summary>
/// Minimal GNU-style argument parsing shared by the <c>lorasdk</c> commands: <c>--name value</c>,
/// <c>--name=value</c>, boolean flags and positionals; <c>--</c> ends option parsing.
/// </summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, string> _values = new Dictionary<string, string>(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new HashSet<string>(StringComparer.Ordinal);

    private ParsedArguments() { }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Positionals { get; private set; } = Array.Empty<string>();

    /// <summary>Parses <paramref name="args"/>; options not listed in <paramref name="valueOptions"/> or <paramref name="flagOptions"/> are errors.</summary>
    /// <exception cref="CommandLineException">Unknown option, missing value or repeated option.</exception>
    public static ParsedArguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        var result = new ParsedArguments();
        var positionals = new List<string>();
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (optionsEnded || a.Length < 2 || a[0] != '-')
            {
                positionals.Add(a);
                continue;
            }
            if (a == "--")
            {
                optionsEnded = true;
                continue;
            }
            string name = a;
            string? inlineValue = null;
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = a.Substring(0, eq);
                inlineValue = a.Substring(eq + 1);
            }
            if (Contains(flagOptions, name))
            {
                if (inlineValue != null) throw new CommandLineException($"option {name} takes no value");
                result._flags.Add(name);
            }
            else if (Contains(valueOptions, name))
            {
                string value;
                if (inlineValue != null) value = inlineValue;
                else if (i + 1 < args.Count) value = args[++i];
                else throw new CommandLineException($"option {name} needs a value");
                if (result._values.ContainsKey(name)) throw new CommandLineException($"option {name} given twice");
                result._values[name] = value;
            }
            else
            {
                throw new CommandLineException($"unknown option {name}");
            }
        }
        result.Positionals = positionals;
        return result;
    }

    /// <summary>True when the flag was given.</summary>
    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>The option's value, or null.</summary>
    public string? Value(string option) => _values.TryGetValue(option, out var v) ? v : null;

    private static bool Contains(IReadOnlyCollection<string> set, string name)
    {
        foreach (var s in set) if (s == name) return true;
        return false;
    }
}
