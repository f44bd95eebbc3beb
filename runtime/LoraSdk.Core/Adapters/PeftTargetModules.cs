using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;

namespace LoraSdk.Core;

/// <summary>
/// PEFT's <c>check_target_module_exists</c>: whether a config's <c>target_modules</c> (a list of names matched
/// exactly or as a dotted suffix, a regular expression matched against the whole module name, or
/// <c>"all-linear"</c>), minus <c>exclude_modules</c>, and restricted by <c>layers_to_transform</c> /
/// <c>layers_pattern</c>, selects a module. This is how PEFT decides which layers of a model get an adapter when it
/// loads an adapter folder; keys for modules it does not select are ignored by PEFT, and selected layers without
/// keys keep their initial weights.
/// </summary>
public static class PeftTargetModules
{
    /// <summary>PEFT's shorthand for "every Linear layer".</summary>
    public const string AllLinear = "all-linear";

    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// True when <paramref name="config"/> selects the module known as any of <paramref name="moduleNames"/> (its
    /// path, plus aliases such as the <c>text_model.</c> form of a text-encoder path); null when the config has no
    /// <c>target_modules</c> (PEFT would then fall back to per-architecture defaults that diffusers models do not have).
    /// </summary>
    /// <param name="config">The adapter's config.</param>
    /// <param name="moduleNames">The module's names (at least one).</param>
    /// <param name="isLinear">True for a Linear layer (what <c>"all-linear"</c> selects).</param>
    /// <exception cref="LoraSdkFormatException">A pattern is not a valid regular expression, or a field has the wrong type.</exception>
    public static bool? Selects(LoraAdapterConfig config, IReadOnlyList<string> moduleNames, bool isLinear)
    {
        if (config is null) throw new ArgumentNullException(nameof(config));
        if (moduleNames is null || moduleNames.Count == 0) throw new ArgumentException("a module needs a name", nameof(moduleNames));
        object? targets = config.HasField("target_modules") ? config.GetField("target_modules") : ListOf(config.TargetModules);
        if (targets is null) return null;
        object? exclude = config.GetField("exclude_modules");
        foreach (var name in moduleNames)
        {
            if (Excluded(exclude, name)) return false;
        }
        foreach (var name in moduleNames)
        {
            if (SelectsName(config, targets, name, isLinear)) return true;
        }
        return false;
    }

    private static bool SelectsName(LoraAdapterConfig config, object targets, string key, bool isLinear)
    {
        if (targets is string pattern)
        {
            if (string.Equals(pattern, AllLinear, StringComparison.OrdinalIgnoreCase)) return isLinear;
            return FullMatch(pattern, key, "target_modules");
        }
        if (targets is not IReadOnlyList<object?> list) throw new LoraSdkFormatException($"target_modules must be a string or a list of strings, not {PeftConfigPolicy.Describe(targets)}");
        bool found = false;
        foreach (var t in list)
        {
            if (t is not string target) throw new LoraSdkFormatException($"target_modules must hold strings, not {PeftConfigPolicy.Describe(t)}");
            if (key == target || key.EndsWith("." + target, StringComparison.Ordinal))
            {
                found = true;
                break;
            }
        }
        if (!found) return false;
        // PEFT: a module named exactly as a target skips the layer restriction; a suffix match does not.
        foreach (var t in list) if (key == (string)t!) return true;
        return InSelectedLayer(config, key);
    }

    private static bool InSelectedLayer(LoraAdapterConfig config, string key)
    {
        object? indexes = config.GetField("layers_to_transform");
        bool usesIndexes = indexes switch
        {
            null => false,
            IReadOnlyList<object?> l => l.Count != 0,
            _ => true,
        };
        if (!usesIndexes) return true;
        object? patterns = config.GetField("layers_pattern");
        long? index = null;
        var patternList = patterns switch
        {
            null => new List<string>(),
            string s => s.Length == 0 ? new List<string>() : new List<string> { s },
            IReadOnlyList<object?> l => StringList(l, "layers_pattern"),
            _ => throw new LoraSdkFormatException($"layers_pattern must be a string or a list of strings, not {PeftConfigPolicy.Describe(patterns)}"),
        };
        if (patternList.Count == 0)
        {
            // The lazy .*? takes the first numbered segment (PEFT's rule), not a nested one.
            index = LayerIndex(@".*?\.[^.]*\.(\d+)\.", key);
        }
        else
        {
            foreach (var p in patternList)
            {
                index = LayerIndex(@".*?\." + p + @"\.(\d+)\.", key);
                if (index != null) break;
            }
        }
        if (index is not long i) return false;
        switch (indexes)
        {
            case long single:
                return i == single;
            case IReadOnlyList<object?> many:
                foreach (var v in many)
                {
                    if (v is long l && l == i) return true;
                    if (v is not long) throw new LoraSdkFormatException($"layers_to_transform must hold integers, not {PeftConfigPolicy.Describe(v)}");
                }
                return false;
            default:
                throw new LoraSdkFormatException($"layers_to_transform must be an integer or a list of integers, not {PeftConfigPolicy.Describe(indexes)}");
        }
    }

    private static long? LayerIndex(string pythonPattern, string key)
    {
        var m = Compile(pythonPattern, "layers_pattern").Match(key);
        if (!m.Success || m.Index != 0) return null;
        return long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : (long?)null;
    }

    private static bool Excluded(object? exclude, string key)
    {
        switch (exclude)
        {
            case null:
                return false;
            case string pattern:
                return pattern.Length > 0 && FullMatch(pattern, key, "exclude_modules");
            case IReadOnlyList<object?> list:
                foreach (var e in list)
                {
                    if (e is not string name) throw new LoraSdkFormatException($"exclude_modules must hold strings, not {PeftConfigPolicy.Describe(e)}");
                    if (key == name || key.EndsWith("." + name, StringComparison.Ordinal)) return true;
                }
                return false;
            default:
                throw new LoraSdkFormatException($"exclude_modules must be a string or a list of strings, not {PeftConfigPolicy.Describe(exclude)}");
        }
    }

    private static bool FullMatch(string pythonPattern, string key, string field)
    {
        try
        {
            return Regex.IsMatch(key, @"\A(?:" + Translate(pythonPattern) + @")\z", RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw new LoraSdkFormatException($"{field}: '{pythonPattern}' is not a regular expression this SDK can evaluate ({e.Message})", e);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new LoraSdkFormatException($"{field}: '{pythonPattern}' took too long to match '{key}'", e);
        }
    }

    private static Regex Compile(string pythonPattern, string field)
    {
        try
        {
            return new Regex(@"\A(?:" + Translate(pythonPattern) + ")", RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw new LoraSdkFormatException($"{field}: '{pythonPattern}' is not a regular expression this SDK can evaluate ({e.Message})", e);
        }
    }

    /// <summary>Python's named-group syntax in .NET's spelling (the rest of the common syntax is shared).</summary>
    private static string Translate(string pythonPattern) =>
        Regex.Replace(pythonPattern.Replace("(?P<", "(?<"), @"\(\?P=(\w+)\)", @"\k<$1>", RegexOptions.CultureInvariant);

    private static List<string> StringList(IReadOnlyList<object?> list, string field)
    {
        var result = new List<string>();
        foreach (var v in list)
        {
            if (v is not string s) throw new LoraSdkFormatException($"{field} must hold strings, not {PeftConfigPolicy.Describe(v)}");
            result.Add(s);
        }
        return result;
    }

    private static List<object?> ListOf(IReadOnlyList<string> items)
    {
        var list = new List<object?>(items.Count);
        foreach (var s in items) list.Add(s);
        return list;
    }
}
