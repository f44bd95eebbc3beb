using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace LoraSdk.Core;

/// <summary>
/// The PEFT <c>LoraConfig</c> of one adapter in one component (diffusers' <c>peft_config[adapter_name]</c>, a PEFT
/// folder's <c>adapter_config.json</c>): read from a file's <c>lora_adapter_metadata</c> (every field kept for saving),
/// or derived from the module ranks and alphas like diffusers' <c>get_peft_kwargs</c>. Answers PEFT's per-module
/// questions (<see cref="RankFor"/>, <see cref="AlphaFor"/>, with PEFT's pattern matching) and writes itself back as
/// diffusers does. The one reader and writer of LoRA configs in the SDK. Immutable.
/// </summary>
public sealed class LoraAdapterConfig
{
    /// <summary>PEFT's version string written by the PEFT commit the fixtures come from (used for derived configs).</summary>
    public const string DefaultPeftVersion = "0.20.1.dev0@UNKNOWN";

    private readonly IReadOnlyDictionary<string, object?> _extra;

    private LoraAdapterConfig(int r, double loraAlpha, bool loraAlphaIsInteger, IReadOnlyList<KeyValuePair<string, int>> rankPattern,
        IReadOnlyList<KeyValuePair<string, double>> alphaPattern, IReadOnlyList<string> targetModules, bool useRsLora, bool useDora,
        bool loraBias, double loraDropout, IReadOnlyDictionary<string, object?> extra, bool fromMetadata)
    {
        R = r;
        LoraAlpha = loraAlpha;
        LoraAlphaIsInteger = loraAlphaIsInteger;
        RankPattern = rankPattern;
        AlphaPattern = alphaPattern;
        TargetModules = targetModules;
        UseRsLora = useRsLora;
        UseDora = useDora;
        LoraBias = loraBias;
        LoraDropout = loraDropout;
        _extra = extra;
        IsFromMetadata = fromMetadata;
    }

    /// <summary><c>r</c>.</summary>
    public int R { get; }

    /// <summary><c>lora_alpha</c>.</summary>
    public double LoraAlpha { get; }

    /// <summary>True when <c>lora_alpha</c> is a Python int (written without a decimal point).</summary>
    public bool LoraAlphaIsInteger { get; }

    /// <summary><c>rank_pattern</c> (module pattern → rank), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern { get; }

    /// <summary><c>alpha_pattern</c> (module pattern → alpha), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> AlphaPattern { get; }

    /// <summary><c>target_modules</c> (a set in PEFT; order as stored).</summary>
    public IReadOnlyList<string> TargetModules { get; }

    /// <summary><c>use_rslora</c>.</summary>
    public bool UseRsLora { get; }

    /// <summary><c>use_dora</c>.</summary>
    public bool UseDora { get; }

    /// <summary><c>lora_bias</c>.</summary>
    public bool LoraBias { get; }

    /// <summary><c>lora_dropout</c>.</summary>
    public double LoraDropout { get; }

    /// <summary>True when the config came from the file's metadata.</summary>
    public bool IsFromMetadata { get; }

    /// <summary>
    /// PEFT's <c>LoraConfig.to_dict()</c> defaults of the PEFT version the fixtures were made with (keys PEFT writes
    /// even when the metadata of an older version lacks them).
    /// </summary>
    internal static IReadOnlyDictionary<string, object?> Defaults() => new SortedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["alora_invocation_tokens"] = null,
        ["alpha_pattern"] = new SortedDictionary<string, object?>(StringComparer.Ordinal),
        ["arrow_config"] = null,
        ["auto_mapping"] = null,
        ["base_model_name_or_path"] = null,
        ["bias"] = "none",
        ["corda_config"] = null,
        ["ensure_weight_tying"] = false,
        ["eva_config"] = null,
        ["exclude_modules"] = null,
        ["fan_in_fan_out"] = false,
        ["inference_mode"] = false,
        ["init_lora_weights"] = true,
        ["kasa_config"] = null,
        ["layer_replication"] = null,
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
        ["loftq_config"] = new SortedDictionary<string, object?>(StringComparer.Ordinal),
        ["lora_alpha"] = 8L,
        ["lora_bias"] = false,
        ["lora_dropout"] = 0.0,
        ["lora_ga_config"] = null,
        ["megatron_config"] = null,
        ["megatron_core"] = "megatron.core",
        ["modules_to_save"] = null,
        ["monteclora_config"] = null,
        ["peft_type"] = "LORA",
        ["peft_version"] = DefaultPeftVersion,
        ["qalora_group_size"] = 16L,
        ["r"] = 8L,
        ["rank_pattern"] = new SortedDictionary<string, object?>(StringComparer.Ordinal),
        ["revision"] = null,
        ["target_modules"] = null,
        ["target_parameters"] = null,
        ["task_type"] = null,
        ["trainable_token_indices"] = null,
        ["use_bdlora"] = null,
        ["use_dora"] = false,
        ["use_qalora"] = false,
        ["use_rslora"] = false,
        ["velora_config"] = null,
    };

    /// <summary>The safetensors <c>__metadata__</c> key under which diffusers stores the configs.</summary>
    public const string MetadataKey = "lora_adapter_metadata";

    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Reads the configs in a file's <c>lora_adapter_metadata</c>: one per component prefix (<c>unet.r</c> …), or one
    /// under the empty key for the unprefixed form <c>save_lora_adapter</c> writes. Missing metadata gives none;
    /// malformed metadata or fields add a line to <paramref name="warnings"/> and fall back to PEFT's defaults.
    /// </summary>
    public static IReadOnlyDictionary<string, LoraAdapterConfig> FromSafetensorsMetadata(IReadOnlyDictionary<string, string> metadata, ICollection<string> warnings)
    {
        if (metadata is null) throw new ArgumentNullException(nameof(metadata));
        if (warnings is null) throw new ArgumentNullException(nameof(warnings));
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
        var byComponent = new Dictionary<string, Dictionary<string, JsonValue>>(StringComparer.Ordinal);
        foreach (var p in root.Properties)
        {
            string component = "";
            string name = p.Key;
            int dot = name.IndexOf('.');
            if (dot > 0 && LoraComponents.IsKnown(name.Substring(0, dot)))
            {
                component = name.Substring(0, dot);
                name = name.Substring(dot + 1);
            }
            if (!byComponent.TryGetValue(component, out var fields)) byComponent[component] = fields = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
            fields[name] = p.Value;
        }
        foreach (var entry in byComponent)
            result[entry.Key] = FromFields(entry.Value, entry.Key.Length == 0 ? MetadataKey : MetadataKey + " " + entry.Key, warnings);
        return result;
    }

    /// <summary>Reads a PEFT <c>adapter_config.json</c> (<paramref name="sourceName"/> names it in messages).</summary>
    /// <exception cref="LoraSdkFormatException">The text is not a JSON object.</exception>
    public static LoraAdapterConfig FromJson(string json, string sourceName, ICollection<string> warnings)
    {
        if (json is null) throw new ArgumentNullException(nameof(json));
        JsonValue root;
        try
        {
            root = JsonValue.Parse(json);
        }
        catch (JsonParseException e)
        {
            throw new LoraSdkFormatException($"{sourceName}: {e.Message}", e);
        }
        if (root.Kind != JsonValueKind.Object) throw new LoraSdkFormatException($"{sourceName}: expected a JSON object");
        var fields = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
        foreach (var p in root.Properties) fields[p.Key] = p.Value;
        return FromFields(fields, sourceName, warnings);
    }

    /// <summary>A config from its fields; invalid values add a line to <paramref name="warnings"/> (labelled <paramref name="label"/>) and take PEFT's default.</summary>
    internal static LoraAdapterConfig FromFields(IReadOnlyDictionary<string, JsonValue> fields, string label, ICollection<string> warnings)
    {
        if (fields == null) throw new ArgumentNullException(nameof(fields));
        var extra = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in fields) extra[kv.Key] = PythonJsonWriter.FromJson(kv.Value);
        int r = 8;
        if (fields.TryGetValue("r", out var rv) && !rv.IsNull)
        {
            if (rv.TryGetInt64(out long v) && v > 0 && v <= int.MaxValue) r = (int)v;
            else warnings.Add($"{label}: 'r' is not a positive integer; using PEFT's default 8");
        }
        double alpha = 8;
        bool alphaInt = true;
        if (fields.TryGetValue("lora_alpha", out var av) && !av.IsNull)
        {
            if (av.Kind == JsonValueKind.Number && IsFinite(av.AsDouble()))
            {
                alpha = av.AsDouble();
                alphaInt = PythonJsonWriter.FromJson(av) is long;
            }
            else warnings.Add($"{label}: 'lora_alpha' is not a number; using PEFT's default 8");
        }
        var rankPattern = new List<KeyValuePair<string, int>>();
        if (fields.TryGetValue("rank_pattern", out var rp) && rp.Kind == JsonValueKind.Object)
        {
            foreach (var p in rp.Properties)
            {
                if (p.Value.TryGetInt64(out long v) && v > 0 && v <= int.MaxValue) rankPattern.Add(new KeyValuePair<string, int>(p.Key, (int)v));
                else warnings.Add($"{label}: rank_pattern '{p.Key}' is not a positive integer; ignored");
            }
        }
        var alphaPattern = new List<KeyValuePair<string, double>>();
        if (fields.TryGetValue("alpha_pattern", out var ap) && ap.Kind == JsonValueKind.Object)
        {
            foreach (var p in ap.Properties)
            {
                if (p.Value.Kind == JsonValueKind.Number && IsFinite(p.Value.AsDouble())) alphaPattern.Add(new KeyValuePair<string, double>(p.Key, p.Value.AsDouble()));
                else warnings.Add($"{label}: alpha_pattern '{p.Key}' is not a number; ignored");
            }
        }
        var targets = new List<string>();
        if (fields.TryGetValue("target_modules", out var tm))
        {
            if (tm.Kind == JsonValueKind.Array) foreach (var t in tm.Items) { if (t.Kind == JsonValueKind.String) targets.Add(t.AsString()); }
            else if (tm.Kind == JsonValueKind.String) targets.Add(tm.AsString());
        }
        bool Flag(string name) => fields.TryGetValue(name, out var v) && v.Kind == JsonValueKind.True;
        double dropout = fields.TryGetValue("lora_dropout", out var dv) && dv.Kind == JsonValueKind.Number ? dv.AsDouble() : 0.0;
        return new LoraAdapterConfig(r, alpha, alphaInt, rankPattern, alphaPattern, targets, Flag("use_rslora"), Flag("use_dora"),
            Flag("lora_bias"), dropout, extra, fromMetadata: true);
    }

    /// <summary>The value of config field <paramref name="name"/> as read (null when absent): for fields the SDK has no property for.</summary>
    public object? GetField(string name) => _extra.TryGetValue(name, out var v) ? v : null;

    /// <summary>True when the config was read with field <paramref name="name"/>.</summary>
    public bool HasField(string name) => _extra.ContainsKey(name);

    /// <summary>The adapter's rank by PEFT's rule (<see cref="AdapterRank"/>): <c>max(r, *rank_pattern.values())</c>.</summary>
    public int AdapterRankValue => AdapterRank.FromConfig(R, RankPattern.Select(kv => kv.Value));

    /// <summary>
    /// PEFT's rank for a module: the first <c>rank_pattern</c> key that matches one of <paramref name="moduleNames"/>
    /// (the module's path, plus any alias such as the <c>text_model.</c> form) as PEFT matches it — the key as a regular
    /// expression for a whole trailing run of dotted path segments — else <see cref="R"/>.
    /// </summary>
    public int RankFor(IReadOnlyList<string> moduleNames, ICollection<string>? warnings = null) =>
        TryMatch(RankPattern, moduleNames, warnings, out int v) ? v : R;

    /// <summary>PEFT's alpha for a module (as <see cref="RankFor"/>, with <c>alpha_pattern</c> and <see cref="LoraAlpha"/>).</summary>
    public double AlphaFor(IReadOnlyList<string> moduleNames, out bool fromPattern, ICollection<string>? warnings = null)
    {
        fromPattern = TryMatch(AlphaPattern, moduleNames, warnings, out double v);
        return fromPattern ? v : LoraAlpha;
    }

    private static bool TryMatch<T>(IReadOnlyList<KeyValuePair<string, T>> patterns, IReadOnlyList<string> moduleNames, ICollection<string>? warnings, out T value)
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
                    warnings?.Add($"pattern '{p.Key}' timed out while matching '{name}'; treated as no match");
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

    /// <summary>
    /// diffusers' <c>get_peft_kwargs</c> for a file without metadata: <c>r</c> and <c>lora_alpha</c> are the most
    /// common rank and alpha (first seen wins ties), other modules go to <c>rank_pattern</c> / <c>alpha_pattern</c>;
    /// <c>target_modules</c> is condensed like PEFT does for long lists.
    /// </summary>
    /// <param name="modules">Per module (in file key order): path, rank, alpha, alpha-is-int.</param>
    /// <param name="useRsLora">rsLoRA flag.</param>
    /// <param name="otherModuleNames">Every other module name of the component (for PEFT's target-module condensing).</param>
    /// <param name="isUnet">UNet configs key rank_pattern by <c>^path</c> as diffusers does.</param>
    public static LoraAdapterConfig Derive(IReadOnlyList<(string Path, int Rank, double Alpha, bool AlphaIsInteger)> modules, bool useRsLora,
        IEnumerable<string> otherModuleNames, bool isUnet)
    {
        if (modules == null || modules.Count == 0) throw new ArgumentException("an adapter needs at least one module", nameof(modules));
        int r = MostCommon(modules.Select(m => m.Rank));
        double alpha = MostCommon(modules.Select(m => m.Alpha));
        bool alphaInt = modules.First(m => m.Alpha.Equals(alpha)).AlphaIsInteger;
        var rankPattern = new List<KeyValuePair<string, int>>();
        var alphaPattern = new List<KeyValuePair<string, double>>();
        foreach (var m in modules)
        {
            if (m.Rank != r) rankPattern.Add(new KeyValuePair<string, int>((isUnet ? "^" : "") + m.Path, m.Rank));
            if (!m.Alpha.Equals(alpha)) alphaPattern.Add(new KeyValuePair<string, double>(m.Path, m.Alpha));
        }
        var targets = TargetModuleCondenser.Condense(modules.Select(m => m.Path).ToList(), otherModuleNames);
        return new LoraAdapterConfig(r, alpha, alphaInt, rankPattern, alphaPattern, targets, useRsLora, false, false, 0.0,
            new SortedDictionary<string, object?>(StringComparer.Ordinal), fromMetadata: false);
    }

    /// <summary>
    /// This config if it gives every module of <paramref name="modules"/> its rank and alpha (through <see cref="RankFor"/>
    /// and <see cref="AlphaFor"/>); otherwise the same config with <c>r</c>, <c>lora_alpha</c>, <c>rank_pattern</c> and
    /// <c>alpha_pattern</c> rebuilt from the modules as diffusers' <c>get_peft_kwargs</c> would (the most common values,
    /// patterns for the rest). What a saved file's metadata must say so that it agrees with its tensors.
    /// </summary>
    public LoraAdapterConfig AgreeingWith(IReadOnlyList<(string Path, int Rank, double Alpha)> modules, bool isUnet)
    {
        if (modules == null || modules.Count == 0) throw new ArgumentException("an adapter needs at least one module", nameof(modules));
        bool agrees = true;
        foreach (var m in modules)
        {
            var names = new[] { m.Path };
            if (RankFor(names) != m.Rank || !AlphaFor(names, out _).Equals(m.Alpha))
            {
                agrees = false;
                break;
            }
        }
        if (agrees) return this;
        int r = MostCommon(modules.Select(m => m.Rank));
        double alpha = MostCommon(modules.Select(m => m.Alpha));
        var rankPattern = new List<KeyValuePair<string, int>>();
        var alphaPattern = new List<KeyValuePair<string, double>>();
        foreach (var m in modules)
        {
            if (m.Rank != r) rankPattern.Add(new KeyValuePair<string, int>((isUnet ? "^" : "") + m.Path, m.Rank));
            if (!m.Alpha.Equals(alpha)) alphaPattern.Add(new KeyValuePair<string, double>(m.Path, m.Alpha));
        }
        var extra = new SortedDictionary<string, object?>(_extra.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        foreach (var key in new[] { "r", "lora_alpha", "rank_pattern", "alpha_pattern" }) extra.Remove(key);
        bool alphaInt = alpha == Math.Floor(alpha) && Math.Abs(alpha) < 1e15;
        return new LoraAdapterConfig(r, alpha, alphaInt, rankPattern, alphaPattern, TargetModules, UseRsLora, UseDora, LoraBias, LoraDropout,
            extra, IsFromMetadata);
    }

    /// <summary>A config for an in-memory adapter (merges, user-built adapters).</summary>
    public static LoraAdapterConfig Create(int r, double loraAlpha, IReadOnlyList<string> targetModules, bool useRsLora = false,
        IReadOnlyList<KeyValuePair<string, int>>? rankPattern = null, IReadOnlyList<KeyValuePair<string, double>>? alphaPattern = null)
    {
        if (r <= 0) throw new ArgumentOutOfRangeException(nameof(r), $"`r` should be a positive integer value but the value passed is {r}");
        return new LoraAdapterConfig(r, loraAlpha, loraAlpha == Math.Floor(loraAlpha) && Math.Abs(loraAlpha) < 1e15,
            rankPattern ?? Array.Empty<KeyValuePair<string, int>>(), alphaPattern ?? Array.Empty<KeyValuePair<string, double>>(),
            targetModules ?? throw new ArgumentNullException(nameof(targetModules)), useRsLora, false, false, 0.0,
            new SortedDictionary<string, object?>(StringComparer.Ordinal), fromMetadata: false);
    }

    /// <summary>PEFT's <c>prepare_model_for_compiled_hotswap(config=…)</c>: r and every rank_pattern value become <paramref name="targetRank"/>.</summary>
    internal LoraAdapterConfig WithTargetRank(int targetRank)
    {
        var rp = RankPattern.Select(kv => new KeyValuePair<string, int>(kv.Key, targetRank)).ToList();
        var extra = new SortedDictionary<string, object?>(_extra.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        extra.Remove("r");
        extra.Remove("rank_pattern");
        return new LoraAdapterConfig(targetRank, LoraAlpha, LoraAlphaIsInteger, rp, AlphaPattern, TargetModules, UseRsLora, UseDora,
            LoraBias, LoraDropout, extra, IsFromMetadata);
    }

    /// <summary>
    /// PEFT's <c>LoraConfig.to_dict()</c> of this config: PEFT's defaults, overlaid with every metadata field, overlaid
    /// with the values this SDK uses (<c>r</c>, <c>lora_alpha</c>, patterns, <c>target_modules</c>, flags).
    /// </summary>
    public IReadOnlyDictionary<string, object?> ToDict()
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in Defaults()) d[kv.Key] = kv.Value;
        foreach (var kv in _extra) d[kv.Key] = kv.Value;
        d["r"] = (long)R;
        d["lora_alpha"] = LoraAlphaIsInteger ? (object)(long)LoraAlpha : LoraAlpha;
        var rp = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in RankPattern) rp[kv.Key] = (long)kv.Value;
        d["rank_pattern"] = rp;
        if (!IsFromMetadata || !_extra.ContainsKey("alpha_pattern"))
        {
            var ap = new SortedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var kv in AlphaPattern) ap[kv.Key] = kv.Value;
            d["alpha_pattern"] = ap;
        }
        if (!IsFromMetadata || !_extra.ContainsKey("target_modules")) d["target_modules"] = TargetModules.Cast<object?>().ToList();
        d["use_rslora"] = UseRsLora;
        d["use_dora"] = UseDora;
        d["lora_bias"] = LoraBias;
        if (!IsFromMetadata) d["lora_dropout"] = LoraDropout;
        return d;
    }

    /// <summary><see cref="ToDict"/> as diffusers writes it: <c>json.dumps(…, indent=2, sort_keys=True)</c>.</summary>
    public string ToJson() => PythonJsonWriter.Dumps(ToDict());

    private static T MostCommon<T>(IEnumerable<T> values) where T : notnull
    {
        var counts = new Dictionary<T, int>();
        var order = new List<T>();
        foreach (var v in values)
        {
            if (!counts.ContainsKey(v))
            {
                counts[v] = 0;
                order.Add(v);
            }
            counts[v]++;
        }
        T best = order[0];
        foreach (var v in order) if (counts[v] > counts[best]) best = v;
        return best;
    }
}
