using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// The PEFT <c>LoraConfig</c> of one adapter in one component (diffusers' <c>peft_config[adapter_name]</c>): taken
/// from the file's <c>lora_adapter_metadata</c> when present (every field kept for saving), otherwise derived from
/// the module ranks and alphas like diffusers' <c>get_peft_kwargs</c>. Immutable.
/// </summary>
public sealed class PeftLoraConfig
{
    /// <summary>PEFT's version string written by the PEFT commit the fixtures come from (used for derived configs).</summary>
    public const string DefaultPeftVersion = "0.20.1.dev0@UNKNOWN";

    private readonly IReadOnlyDictionary<string, object?> _extra;

    private PeftLoraConfig(int r, double loraAlpha, bool loraAlphaIsInteger, IReadOnlyList<KeyValuePair<string, int>> rankPattern,
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

    /// <summary>Reads a (component-unprefixed) PEFT config object, e.g. from <c>lora_adapter_metadata</c>.</summary>
    public static PeftLoraConfig FromMetadata(IReadOnlyDictionary<string, JsonValue> fields)
    {
        if (fields == null) throw new ArgumentNullException(nameof(fields));
        var extra = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in fields) extra[kv.Key] = PythonJsonWriter.FromJson(kv.Value);
        int r = 8;
        if (fields.TryGetValue("r", out var rv) && rv.Kind == JsonValueKind.Number) r = (int)rv.AsInt64();
        double alpha = 8;
        bool alphaInt = true;
        if (fields.TryGetValue("lora_alpha", out var av) && av.Kind == JsonValueKind.Number)
        {
            alpha = av.AsDouble();
            alphaInt = PythonJsonWriter.FromJson(av) is long;
        }
        var rankPattern = new List<KeyValuePair<string, int>>();
        if (fields.TryGetValue("rank_pattern", out var rp) && rp.Kind == JsonValueKind.Object)
            foreach (var p in rp.Properties)
                if (p.Value.Kind == JsonValueKind.Number) rankPattern.Add(new KeyValuePair<string, int>(p.Key, (int)p.Value.AsInt64()));
        var alphaPattern = new List<KeyValuePair<string, double>>();
        if (fields.TryGetValue("alpha_pattern", out var ap) && ap.Kind == JsonValueKind.Object)
            foreach (var p in ap.Properties)
                if (p.Value.Kind == JsonValueKind.Number) alphaPattern.Add(new KeyValuePair<string, double>(p.Key, p.Value.AsDouble()));
        var targets = new List<string>();
        if (fields.TryGetValue("target_modules", out var tm))
        {
            if (tm.Kind == JsonValueKind.Array) foreach (var t in tm.Items) { if (t.Kind == JsonValueKind.String) targets.Add(t.AsString()); }
            else if (tm.Kind == JsonValueKind.String) targets.Add(tm.AsString());
        }
        bool Flag(string name) => fields.TryGetValue(name, out var v) && v.Kind == JsonValueKind.True;
        double dropout = fields.TryGetValue("lora_dropout", out var dv) && dv.Kind == JsonValueKind.Number ? dv.AsDouble() : 0.0;
        return new PeftLoraConfig(r, alpha, alphaInt, rankPattern, alphaPattern, targets, Flag("use_rslora"), Flag("use_dora"),
            Flag("lora_bias"), dropout, extra, fromMetadata: true);
    }

    /// <summary>
    /// diffusers' <c>get_peft_kwargs</c> for a file without metadata: <c>r</c> and <c>lora_alpha</c> are the most
    /// common rank and alpha (first seen wins ties), other modules go to <c>rank_pattern</c> / <c>alpha_pattern</c>;
    /// <c>target_modules</c> is condensed like PEFT does for long lists.
    /// </summary>
    /// <param name="modules">Per module (in file key order): path, rank, alpha, alpha-is-int.</param>
    /// <param name="useRsLora">rsLoRA flag.</param>
    /// <param name="otherModuleNames">Every other module name of the component (for PEFT's target-module condensing).</param>
    /// <param name="isUnet">UNet configs key rank_pattern by <c>^path</c> as diffusers does.</param>
    public static PeftLoraConfig Derive(IReadOnlyList<(string Path, int Rank, double Alpha, bool AlphaIsInteger)> modules, bool useRsLora,
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
        return new PeftLoraConfig(r, alpha, alphaInt, rankPattern, alphaPattern, targets, useRsLora, false, false, 0.0,
            new SortedDictionary<string, object?>(StringComparer.Ordinal), fromMetadata: false);
    }

    /// <summary>A config for an in-memory adapter (merges, user-built adapters).</summary>
    public static PeftLoraConfig Create(int r, double loraAlpha, IReadOnlyList<string> targetModules, bool useRsLora = false,
        IReadOnlyList<KeyValuePair<string, int>>? rankPattern = null, IReadOnlyList<KeyValuePair<string, double>>? alphaPattern = null)
    {
        if (r <= 0) throw new ArgumentOutOfRangeException(nameof(r), $"`r` should be a positive integer value but the value passed is {r}");
        return new PeftLoraConfig(r, loraAlpha, loraAlpha == Math.Floor(loraAlpha) && Math.Abs(loraAlpha) < 1e15,
            rankPattern ?? Array.Empty<KeyValuePair<string, int>>(), alphaPattern ?? Array.Empty<KeyValuePair<string, double>>(),
            targetModules ?? throw new ArgumentNullException(nameof(targetModules)), useRsLora, false, false, 0.0,
            new SortedDictionary<string, object?>(StringComparer.Ordinal), fromMetadata: false);
    }

    /// <summary>PEFT's <c>prepare_model_for_compiled_hotswap(config=…)</c>: r and every rank_pattern value become <paramref name="targetRank"/>.</summary>
    internal PeftLoraConfig WithTargetRank(int targetRank)
    {
        var rp = RankPattern.Select(kv => new KeyValuePair<string, int>(kv.Key, targetRank)).ToList();
        var extra = new SortedDictionary<string, object?>(_extra.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        extra.Remove("r");
        extra.Remove("rank_pattern");
        return new PeftLoraConfig(targetRank, LoraAlpha, LoraAlphaIsInteger, rp, AlphaPattern, TargetModules, UseRsLora, UseDora,
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

    /// <summary>Python repr of a config value for PEFT's "Configs are incompatible" message.</summary>
    internal string ReprOf(string key) => key switch
    {
        "use_rslora" => UseRsLora ? "True" : "False",
        "use_dora" => UseDora ? "True" : "False",
        "lora_dropout" => PythonRepr.Float(LoraDropout),
        "alpha_pattern" => "{" + string.Join(", ", AlphaPattern.Select(kv => PythonRepr.String(kv.Key) + ": " + AlphaRepr(kv.Value))) + "}",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    private static string AlphaRepr(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture) : PythonRepr.Float(v);

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
