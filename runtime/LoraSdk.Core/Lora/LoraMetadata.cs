using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// Reads the human-facing <c>__metadata__</c> conventions of LoRA files: trigger words (sd-scripts / modelspec) and the
/// declared base architecture.
/// </summary>
public static class LoraMetadata
{
    /// <summary>How many of the most frequent <c>ss_tag_frequency</c> tags become trigger words.</summary>
    public const int TagFrequencyTriggerWordCount = 5;

    /// <summary>
    /// Trigger words: the comma-separated <c>modelspec.trigger_phrase</c> (trimmed, empty entries and duplicates
    /// dropped, order kept); otherwise the <see cref="TagFrequencyTriggerWordCount"/> most frequent tags of
    /// <c>ss_tag_frequency</c> (JSON <c>{dataset: {tag: count}}</c>, counts summed over datasets, ties broken by
    /// ordinal tag order); otherwise none. A malformed <c>ss_tag_frequency</c> adds a line to <paramref name="warnings"/>.
    /// </summary>
    public static IReadOnlyList<string> ExtractTriggerWords(IReadOnlyDictionary<string, string> metadata, ICollection<string>? warnings = null)
    {
        if (metadata == null) throw new ArgumentNullException(nameof(metadata));
        var words = new List<string>();
        if (metadata.TryGetValue("modelspec.trigger_phrase", out var phrase) && !string.IsNullOrWhiteSpace(phrase))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var part in phrase.Split(','))
            {
                string w = part.Trim();
                if (w.Length > 0 && seen.Add(w)) words.Add(w);
            }
            if (words.Count > 0) return words.AsReadOnly();
        }
        if (!metadata.TryGetValue("ss_tag_frequency", out var tagJson) || string.IsNullOrWhiteSpace(tagJson)) return words.AsReadOnly();
        JsonValue root;
        try
        {
            root = JsonValue.Parse(tagJson);
        }
        catch (JsonParseException e)
        {
            warnings?.Add("ss_tag_frequency is not valid JSON (" + e.Message + "); no trigger words taken from it");
            return words.AsReadOnly();
        }
        if (root.Kind != JsonValueKind.Object)
        {
            warnings?.Add("ss_tag_frequency is not a JSON object; no trigger words taken from it");
            return words.AsReadOnly();
        }
        var counts = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var dataset in root.Properties)
        {
            if (dataset.Value.Kind != JsonValueKind.Object) continue;
            foreach (var tag in dataset.Value.Properties)
            {
                if (tag.Value.Kind != JsonValueKind.Number) continue;
                string name = tag.Key.Trim();
                if (name.Length == 0) continue;
                double c = tag.Value.AsDouble();
                if (double.IsNaN(c) || double.IsInfinity(c)) continue;
                counts.TryGetValue(name, out double prev);
                counts[name] = prev + c;
            }
        }
        var ordered = new List<KeyValuePair<string, double>>(counts);
        ordered.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        for (int i = 0; i < ordered.Count && i < TagFrequencyTriggerWordCount; i++) words.Add(ordered[i].Key);
        return words.AsReadOnly();
    }

    /// <summary>
    /// The declared base architecture, raw: <c>modelspec.architecture</c> (e.g. <c>stable-diffusion-xl-v1-base/lora</c>),
    /// else <c>ss_base_model_version</c> (e.g. <c>sdxl_base_v1-0</c>, <c>sd_v1</c>), else null.
    /// </summary>
    public static string? DeclaredArchitectureRaw(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata == null) throw new ArgumentNullException(nameof(metadata));
        if (metadata.TryGetValue("modelspec.architecture", out var a) && !string.IsNullOrWhiteSpace(a)) return a.Trim();
        if (metadata.TryGetValue("ss_base_model_version", out var b) && !string.IsNullOrWhiteSpace(b)) return b.Trim();
        return null;
    }

    /// <summary>
    /// Normalizes a declared architecture to <see cref="LoraArchitectures"/> (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c>, <c>flux</c>);
    /// an unrecognized value is returned unchanged, null stays null.
    /// </summary>
    public static string? NormalizeArchitecture(string? raw)
    {
        if (raw == null) return null;
        string s = raw.Trim().ToLowerInvariant();
        int slash = s.IndexOf('/');
        string head = slash >= 0 ? s.Substring(0, slash) : s;
        if (head.StartsWith("stable-diffusion-xl", StringComparison.Ordinal) || head.StartsWith("sdxl", StringComparison.Ordinal))
            return LoraArchitectures.Sdxl;
        if (head.StartsWith("stable-diffusion-v1", StringComparison.Ordinal) || head == "sd_v1" || head.StartsWith("sd_v1_", StringComparison.Ordinal)
            || head == "sd1" || head == "sd15" || head == "sd_1.5")
            return LoraArchitectures.Sd15;
        if (head.StartsWith("stable-diffusion-v2", StringComparison.Ordinal) || head == "sd_v2" || head.StartsWith("sd_v2_", StringComparison.Ordinal)
            || head == "sd2")
            return LoraArchitectures.Sd2;
        // sd-scripts writes "flux-1-dev/lora" (modelspec) and "flux1" (ss_base_model_version).
        if (head.StartsWith("flux-1", StringComparison.Ordinal) || head.StartsWith("flux.1", StringComparison.Ordinal) || head.StartsWith("flux1", StringComparison.Ordinal)
            || head == "flux")
            return LoraArchitectures.Flux;
        return raw.Trim();
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
