using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace LoraSdk.Core;

/// <summary>
/// The PEFT <c>LoraConfig</c> fields of one component, read from diffusers' <c>lora_adapter_metadata</c>
/// (<c>__metadata__</c> JSON whose keys are prefixed by the component when a pipeline saved it, unprefixed when
/// <c>save_lora_adapter</c> did). Missing <c>r</c> / <c>lora_alpha</c> take PEFT's defaults (8 / 8).
/// </summary>
internal sealed class LoraAdapterConfig
{
    public const string MetadataKey = "lora_adapter_metadata";
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

    public int Rank { get; private set; } = 8;
    public double Alpha { get; private set; } = 8;
    public bool UseRsLora { get; private set; }
    public bool UseDora { get; private set; }
    public List<KeyValuePair<string, int>> RankPattern { get; } = new List<KeyValuePair<string, int>>();
    public List<KeyValuePair<string, double>> AlphaPattern { get; } = new List<KeyValuePair<string, double>>();

    /// <summary>Splits the metadata JSON into per-component configs; key "" holds the unprefixed one (if any).</summary>
    public static Dictionary<string, LoraAdapterConfig> ParseAll(IReadOnlyDictionary<string, string> metadata, ICollection<string> warnings)
    {
        var result = new Dictionary<string, LoraAdapterConfig>(StringComparer.Ordinal);
        if (!metadata.TryGetValue(MetadataKey, out var text)) return result;
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text);
        }
        catch (JsonParseException e)
        {
            warnings.Add($"{MetadataKey} is not valid JSON ({e.Message}); alphas come from .alpha tensors or ranks instead");
            return result;
        }
        if (root.Kind != JsonValueKind.Object)
        {
            warnings.Add($"{MetadataKey} is not a JSON object; alphas come from .alpha tensors or ranks instead");
            return result;
        }
        var fields = new Dictionary<string, Dictionary<string, JsonValue>>(StringComparer.Ordinal);
        foreach (var p in root.Properties)
        {
            string component = "";
            string name = p.Key;
            int dot = name.IndexOf('.');
            if (dot > 0)
            {
                string head = name.Substring(0, dot);
                foreach (var c in LoraComponents.All)
                {
                    if (c == head)
                    {
                        component = c;
                        name = name.Substring(dot + 1);
                        break;
                    }
                }
            }
            if (!fields.TryGetValue(component, out var dict)) fields[component] = dict = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
            dict[name] = p.Value;
        }
        foreach (var entry in fields)
        {
            var config = new LoraAdapterConfig();
            string label = entry.Key.Length == 0 ? MetadataKey : MetadataKey + " " + entry.Key;
            config.Read(entry.Value, label, warnings);
            result[entry.Key] = config;
        }
        return result;
    }

    private void Read(Dictionary<string, JsonValue> f, string label, ICollection<string> warnings)
    {
        if (f.TryGetValue("r", out var r) && !r.IsNull)
        {
            if (r.TryGetInt64(out long rv) && rv > 0 && rv <= int.MaxValue) Rank = (int)rv;
            else warnings.Add($"{label}: 'r' is not a positive integer; using PEFT's default 8");
        }
        if (f.TryGetValue("lora_alpha", out var a) && !a.IsNull)
        {
            if (a.Kind == JsonValueKind.Number && IsFinite(a.AsDouble())) Alpha = a.AsDouble();
            else warnings.Add($"{label}: 'lora_alpha' is not a number; using PEFT's default 8");
        }
        UseRsLora = f.TryGetValue("use_rslora", out var rs) && rs.Kind == JsonValueKind.True;
        UseDora = f.TryGetValue("use_dora", out var d) && d.Kind == JsonValueKind.True;
        if (f.TryGetValue("rank_pattern", out var rp) && rp.Kind == JsonValueKind.Object)
        {
            foreach (var p in rp.Properties)
            {
                if (p.Value.TryGetInt64(out long v) && v > 0 && v <= int.MaxValue) RankPattern.Add(new KeyValuePair<string, int>(p.Key, (int)v));
                else warnings.Add($"{label}: rank_pattern '{p.Key}' is not a positive integer; ignored");
            }
        }
        if (f.TryGetValue("alpha_pattern", out var ap) && ap.Kind == JsonValueKind.Object)
        {
            foreach (var p in ap.Properties)
            {
                if (p.Value.Kind == JsonValueKind.Number && IsFinite(p.Value.AsDouble())) AlphaPattern.Add(new KeyValuePair<string, double>(p.Key, p.Value.AsDouble()));
                else warnings.Add($"{label}: alpha_pattern '{p.Key}' is not a number; ignored");
            }
        }
    }

    /// <summary>The configured rank of a module (rank_pattern first match, else r).</summary>
    public int RankFor(IReadOnlyList<string> moduleNames, ICollection<string> warnings) =>
        TryMatch(RankPattern, moduleNames, warnings, out int v) ? v : Rank;

    /// <summary>The configured alpha of a module; <paramref name="fromPattern"/> tells whether alpha_pattern matched.</summary>
    public double AlphaFor(IReadOnlyList<string> moduleNames, ICollection<string> warnings, out bool fromPattern)
    {
        fromPattern = TryMatch(AlphaPattern, moduleNames, warnings, out double v);
        return fromPattern ? v : Alpha;
    }

    /// <summary>PEFT's <c>get_pattern_key</c>: the first pattern p with <c>re.match(rf"(.*\.)?({p})$", name)</c>.</summary>
    private static bool TryMatch<T>(List<KeyValuePair<string, T>> patterns, IReadOnlyList<string> moduleNames, ICollection<string> warnings, out T value)
    {
        foreach (var p in patterns)
        {
            foreach (var name in moduleNames)
            {
                bool match;
                try
                {
                    match = Regex.IsMatch(name, @"\A(.*\.)?(" + p.Key + @")\z", RegexOptions.CultureInvariant, PatternTimeout);
                }
                catch (ArgumentException)
                {
                    // Not a valid .NET regex: compare literally (PEFT keys are almost always plain module names).
                    match = name == p.Key || name.EndsWith("." + p.Key, StringComparison.Ordinal);
                }
                catch (RegexMatchTimeoutException)
                {
                    warnings.Add($"pattern '{p.Key}' timed out while matching '{name}'; treated as no match");
                    match = false;
                }
                if (match)
                {
                    value = p.Value;
                    return true;
                }
            }
        }
        value = default!;
        return false;
    }

    private static bool IsFinite(double v) => !double.IsNaN(v) && !double.IsInfinity(v);
}
