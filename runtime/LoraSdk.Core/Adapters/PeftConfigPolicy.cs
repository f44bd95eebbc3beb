using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace LoraSdk.Core;

/// <summary>What the SDK does with one field of PEFT's <c>LoraConfig</c> (see <see cref="PeftConfigPolicy"/>).</summary>
public enum PeftFieldTreatment
{
    /// <summary>The field decides how the adapter runs and the SDK applies it as PEFT does (<c>r</c>, <c>lora_alpha</c>, patterns, targets, ...).</summary>
    Honoured,

    /// <summary>The field cannot change an inference result on Linear/Conv2d layers (training, bookkeeping or initialisation-only settings).</summary>
    NoInferenceEffect,

    /// <summary>A non-default value changes inference in a way the SDK does not implement: such a config is refused.</summary>
    RefusedUnlessDefault,
}

/// <summary>One thing <see cref="PeftConfigPolicy.Check"/> found in a config: a refusal or a warning.</summary>
public sealed class PeftConfigFinding
{
    internal PeftConfigFinding(string field, object? value, bool isRefusal, string message)
    {
        Field = field;
        Value = value;
        IsRefusal = isRefusal;
        Message = message;
    }

    /// <summary>The <c>adapter_config.json</c> field.</summary>
    public string Field { get; }

    /// <summary>Its value as read (null, bool, long, double, string, list or dict).</summary>
    public object? Value { get; }

    /// <summary>True when the config must be refused; false for a warning (the value changes nothing here, but is not ignored silently).</summary>
    public bool IsRefusal { get; }

    /// <summary>What is wrong and why, naming the field and its value.</summary>
    public string Message { get; }

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>
/// The one place that decides which fields of a PEFT <c>LoraConfig</c> (an <c>adapter_config.json</c>, PEFT
/// 0.20.1) the SDK honours for inference, which cannot affect inference, and which it refuses because a non-default
/// value would change the result in a way the SDK does not implement — never ignoring one silently. The engine refuses
/// a PEFT adapter folder whose config has a refusal (and reports the warnings); the generator can report the same
/// findings at build time. Target selection (<c>target_modules</c>, <c>exclude_modules</c>,
/// <c>layers_to_transform</c>, <c>layers_pattern</c>) is <see cref="PeftTargetModules"/>.
/// </summary>
public static class PeftConfigPolicy
{
    private static readonly string[] BaseWeightInitializations = { "olora", "corda", "loftq", "lora_ga" };

    /// <summary>
    /// Every field of PEFT 0.20.1's <c>LoraConfig.to_dict()</c> and how the SDK treats it. A field missing here is
    /// unknown (a newer PEFT): it is refused unless its value is empty (null, false, "", [] or {}).
    /// </summary>
    public static IReadOnlyDictionary<string, PeftFieldTreatment> Fields { get; } = new SortedDictionary<string, PeftFieldTreatment>(StringComparer.Ordinal)
    {
        // What LoRA computes: scaling, ranks, which layers.
        ["r"] = PeftFieldTreatment.Honoured,
        ["lora_alpha"] = PeftFieldTreatment.Honoured,
        ["rank_pattern"] = PeftFieldTreatment.Honoured,
        ["alpha_pattern"] = PeftFieldTreatment.Honoured,
        ["use_rslora"] = PeftFieldTreatment.Honoured,
        // DoRA: the weights carry lora_magnitude_vector, which selects the DoRA variant layer by layer.
        ["use_dora"] = PeftFieldTreatment.Honoured,
        ["target_modules"] = PeftFieldTreatment.Honoured,
        ["exclude_modules"] = PeftFieldTreatment.Honoured,
        ["layers_to_transform"] = PeftFieldTreatment.Honoured,
        ["layers_pattern"] = PeftFieldTreatment.Honoured,
        // Decides what a targeted layer without weights computes and the random draws before a DARE merge; values
        // that rewrite the base weights at load (PiSSA, OLoRA, CorDA, LoftQ, LoRA-GA) or select a variant (MiCA) are refused.
        ["init_lora_weights"] = PeftFieldTreatment.Honoured,
        // Only "LORA" is a LoRA config.
        ["peft_type"] = PeftFieldTreatment.Honoured,

        // Changes inference, not implemented: refused unless at its default.
        ["bias"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["modules_to_save"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["lora_bias"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["target_parameters"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["trainable_token_indices"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["layer_replication"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["use_qalora"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["use_bdlora"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["arrow_config"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["kasa_config"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["velora_config"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["monteclora_config"] = PeftFieldTreatment.RefusedUnlessDefault,
        ["alora_invocation_tokens"] = PeftFieldTreatment.RefusedUnlessDefault,

        // Cannot change an inference result on Linear / Conv2d layers.
        ["fan_in_fan_out"] = PeftFieldTreatment.NoInferenceEffect,
        ["lora_dropout"] = PeftFieldTreatment.NoInferenceEffect,
        ["inference_mode"] = PeftFieldTreatment.NoInferenceEffect,
        ["base_model_name_or_path"] = PeftFieldTreatment.NoInferenceEffect,
        ["revision"] = PeftFieldTreatment.NoInferenceEffect,
        ["task_type"] = PeftFieldTreatment.NoInferenceEffect,
        ["peft_version"] = PeftFieldTreatment.NoInferenceEffect,
        ["auto_mapping"] = PeftFieldTreatment.NoInferenceEffect,
        ["megatron_config"] = PeftFieldTreatment.NoInferenceEffect,
        ["megatron_core"] = PeftFieldTreatment.NoInferenceEffect,
        ["qalora_group_size"] = PeftFieldTreatment.NoInferenceEffect,
        ["loftq_config"] = PeftFieldTreatment.NoInferenceEffect,
        ["eva_config"] = PeftFieldTreatment.NoInferenceEffect,
        ["corda_config"] = PeftFieldTreatment.NoInferenceEffect,
        ["lora_ga_config"] = PeftFieldTreatment.NoInferenceEffect,
        ["ensure_weight_tying"] = PeftFieldTreatment.NoInferenceEffect,
        ["runtime_config"] = PeftFieldTreatment.NoInferenceEffect,
    };

    /// <summary>
    /// Checks every field of <paramref name="config"/> (as read from an <c>adapter_config.json</c>) against
    /// <see cref="Fields"/>: refusals for values that would change inference in a way the SDK does not implement,
    /// warnings for values that change nothing here but are not to be dropped silently. Empty when the config is fine.
    /// </summary>
    public static IReadOnlyList<PeftConfigFinding> Check(LoraAdapterConfig config)
    {
        if (config is null) throw new ArgumentNullException(nameof(config));
        var findings = new List<PeftConfigFinding>();
        var fields = config.ToDict();
        foreach (var kv in fields)
        {
            string name = kv.Key;
            object? value = kv.Value;
            if (!Fields.TryGetValue(name, out var treatment))
            {
                if (!IsEmpty(value))
                {
                    findings.Add(Refuse(name, value,
                        "is not a field of PEFT 0.20.1's LoraConfig, so this SDK cannot tell whether it changes the adapter's output; refused rather than ignored"));
                }
                continue;
            }
            PeftConfigFinding? finding = name switch
            {
                "bias" => value is null || value is "none" ? null
                    : Refuse(name, value, "makes PEFT save and load the base layers' biases with the adapter; only bias=\"none\" is supported"),
                "peft_type" => value is null || value is "LORA" ? null : Refuse(name, value, "is not a LoRA adapter; only peft_type \"LORA\" is supported"),
                "init_lora_weights" => InitProblem(value) is { } problem ? Refuse(name, value, problem) : null,
                "fan_in_fan_out" => IsTrue(value)
                    ? Warn(name, value, "changes nothing here: PEFT sets it back to false for torch.nn.Linear layers (with a warning) and does not use it for Conv2d")
                    : null,
                _ => treatment == PeftFieldTreatment.RefusedUnlessDefault && !IsEmpty(value) ? Refuse(name, value, RefusalReason(name)) : null,
            };
            if (finding != null) findings.Add(finding);
        }
        return findings;
    }

    /// <summary>
    /// True when PEFT gives a layer that the config targets but the weights do not cover a zero delta (PEFT warns
    /// "Found missing adapter keys" and the layer computes nothing): <c>init_lora_weights</c> true (default),
    /// "gaussian", "orthogonal" or "eva". False for <c>init_lora_weights=false</c>, where such a layer keeps random
    /// weights.
    /// </summary>
    public static bool MissingLayersAreNoOps(LoraAdapterConfig config)
    {
        if (config is null) throw new ArgumentNullException(nameof(config));
        object? init = config.HasField("init_lora_weights") ? config.GetField("init_lora_weights") : true;
        return init switch
        {
            null => true,
            bool b => b,
            string s => s == "gaussian" || s == "orthogonal" || s == "eva",
            _ => false,
        };
    }

    /// <summary>A compact JSON rendering of a field value for messages (<c>["to_q", "to_k"]</c>, <c>true</c>, <c>"all"</c>).</summary>
    public static string Describe(object? value)
    {
        var sb = new StringBuilder();
        Append(sb, value);
        return sb.ToString();
    }

    private static string? InitProblem(object? value)
    {
        switch (value)
        {
            case null:
            case bool _:
                return null;
            case string s:
                if (s == "gaussian" || s == "orthogonal" || s == "eva") return null;
                if (s.StartsWith("pissa", StringComparison.Ordinal) || BaseWeightInitializations.Contains(s))
                    return "makes PEFT rewrite the base layers' weights from the adapter when it loads (the adapter only works on that residual model); not supported";
                if (s == "mica") return "selects PEFT's MiCA LoRA variant, whose forward pass this SDK does not implement";
                return "is not an initialisation PEFT 0.20.1 knows";
            default:
                return "must be a boolean or one of PEFT's initialisation names";
        }
    }

    private static string RefusalReason(string name) => name switch
    {
        "modules_to_save" => "replaces whole modules with trained copies saved beside the adapter; not supported",
        "lora_bias" => "adds a trained bias to lora_B; not supported",
        "target_parameters" => "applies LoRA to parameters (not Linear/Conv2d layers); not supported",
        "trainable_token_indices" => "trains embedding rows saved beside the adapter; not supported",
        "layer_replication" => "duplicates model layers before applying LoRA; not supported",
        "use_qalora" => "selects QALoRA (pooled inputs); not supported",
        _ => "selects a LoRA variant (" + name + ") whose forward pass this SDK does not implement",
    };

    private static PeftConfigFinding Refuse(string field, object? value, string reason) =>
        new PeftConfigFinding(field, value, true, $"{field} = {Describe(value)}: {reason}");

    private static PeftConfigFinding Warn(string field, object? value, string reason) =>
        new PeftConfigFinding(field, value, false, $"{field} = {Describe(value)}: {reason}");

    private static bool IsTrue(object? value) => value is bool b && b;

    /// <summary>null, false, "", an empty list or an empty dict: the "not used" values of PEFT's optional fields.</summary>
    private static bool IsEmpty(object? value) => value switch
    {
        null => true,
        bool b => !b,
        string s => s.Length == 0,
        IReadOnlyDictionary<string, object?> d => d.Count == 0,
        IReadOnlyList<object?> l => l.Count == 0,
        _ => false,
    };

    private static void Append(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(PythonRepr.Float(d));
                break;
            case string s:
                sb.Append('"').Append(s.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
                break;
            case IReadOnlyDictionary<string, object?> dict:
                sb.Append('{');
                bool firstEntry = true;
                foreach (var kv in dict)
                {
                    if (!firstEntry) sb.Append(", ");
                    firstEntry = false;
                    Append(sb, kv.Key);
                    sb.Append(": ");
                    Append(sb, kv.Value);
                }
                sb.Append('}');
                break;
            case IReadOnlyList<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Append(sb, list[i]);
                }
                sb.Append(']');
                break;
            default:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
