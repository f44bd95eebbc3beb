using System;
using System.Globalization;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// A <c>--lora &lt;path&gt;[:&lt;weight&gt;]</c> value. The part after the last colon is the weight only when it is a
/// number, so <c>C:/x/a.safetensors</c> and <c>dir:name/a.safetensors</c> are plain paths; a weight that is not finite
/// (<c>nan</c>, <c>inf</c>, <c>-Infinity</c>, …) is refused, as for every other number of the CLI.
/// </summary>
/// <param name="Path">The LoRA file.</param>
/// <param name="Weight">Its adapter weight for <c>set_adapters</c> (1.0 when not given).</param>
internal readonly record struct LoraSpec(string Path, double Weight)
{
    /// <summary>Parses a spec; on failure <paramref name="error"/> says why (without the option name).</summary>
    public static bool TryParse(string spec, out LoraSpec result, out string? error)
    {
        result = default;
        error = null;
        if (string.IsNullOrEmpty(spec))
        {
            error = "needs a file path";
            return false;
        }
        int colon = spec.LastIndexOf(':');
        if (colon > 0)
        {
            string suffix = spec.Substring(colon + 1);
            bool number = double.TryParse(suffix, NumberStyles.Float, CultureInfo.InvariantCulture, out double weight);
            if ((number && !double.IsFinite(weight)) || IsNonFiniteSpelling(suffix))
            {
                error = $"weight must be a finite number, not '{suffix}' (in '{spec}')";
                return false;
            }
            if (number)
            {
                result = new LoraSpec(spec.Substring(0, colon), weight);
                return true;
            }
        }
        result = new LoraSpec(spec, 1.0);
        return true;
    }

    /// <summary>
    /// True when <paramref name="spec"/> ends in a weight (<c>:&lt;number&gt;</c>, finite or not), which <see cref="TryParse"/>
    /// would split off; <paramref name="path"/> is the part before it.
    /// </summary>
    public static bool HasWeightSuffix(string spec, out string path)
    {
        path = spec;
        int colon = spec.LastIndexOf(':');
        if (colon <= 0) return false;
        string suffix = spec.Substring(colon + 1);
        if (!double.TryParse(suffix, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !IsNonFiniteSpelling(suffix)) return false;
        path = spec.Substring(0, colon);
        return true;
    }

    /// <summary>Parses a spec or throws <see cref="FormatException"/>.</summary>
    public static LoraSpec Parse(string spec) =>
        TryParse(spec, out var result, out var error) ? result : throw new FormatException("--lora " + error);

    // Spellings a user may mean as a non-finite number even where .NET's parser would not read them ("inf").
    private static bool IsNonFiniteSpelling(string s)
    {
        string t = s.Trim().TrimStart('+', '-').ToLowerInvariant();
        return t is "nan" or "inf" or "infinity" or "∞";
    }
}
