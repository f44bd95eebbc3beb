using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace LoraSdk.Core;

/// <summary>
/// Maps one LoRA file key to (component, diffusers module path, role) for every SD 1.x / 2.x / SDXL naming family:
/// PEFT / current diffusers (with <c>unet.</c>, <c>transformer.</c> (Flux), <c>text_encoder.</c>, <c>text_encoder_2.</c> or
/// no prefix; an unprefixed path with a Flux transformer root such as <c>transformer_blocks.0.attn.to_q</c> belongs to
/// <c>transformer</c>), old
/// diffusers attention processors, kohya / A1111 (diffusers or SGM/LDM block names) and LyCORIS. kohya names
/// (<c>_</c> for <c>.</c>) are resolved by exact lookup among the known module paths of the configured layouts,
/// never by string heuristics. Text-encoder paths are canonical without the <c>text_model.</c> level. The Flux layouts
/// diffusers converts file-wide (kohya <c>lora_unet_double_blocks_…</c>, XLabs, BFL: fused layers split into several
/// modules) are read by <see cref="LoraFileModel"/>, not key by key.
/// </summary>
public sealed class LoraKeyCanonicalizer
{
    private static readonly ConditionalWeakTable<LoraFileModelOptions, LoraKeyCanonicalizer> Cache =
        new ConditionalWeakTable<LoraFileModelOptions, LoraKeyCanonicalizer>();

    private static readonly HashSet<string> UnetRoots = new HashSet<string>(StringComparer.Ordinal)
    {
        "down_blocks", "mid_block", "up_blocks", "conv_in", "conv_out", "time_embedding", "add_embedding",
        "class_embedding", "encoder_hid_proj",
    };

    private static readonly HashSet<string> TextEncoderRoots = new HashSet<string>(StringComparer.Ordinal)
    {
        "encoder", "text_projection", "embeddings",
    };

    // kohya / LyCORIS suffixes after "<lora_name>.": role, variant (null = LoRA; the LoHa/LoKr tensors of
    // LycorisTensorNames are matched too).
    private static readonly (string Suffix, LoraTensorRole Role, string? Variant)[] KohyaSuffixes =
    {
        ("lora_down.weight", LoraTensorRole.A, null),
        ("lora_up.weight", LoraTensorRole.B, null),
        ("lora_mid.weight", LoraTensorRole.Mid, null),
        ("alpha", LoraTensorRole.Alpha, null),
        ("dora_scale", LoraTensorRole.VariantTensor, LoraVariants.KohyaDora),
        ("diff", LoraTensorRole.VariantTensor, LoraVariants.LycorisFull),
        ("diff_b", LoraTensorRole.VariantTensor, LoraVariants.LycorisFull),
        ("w_norm", LoraTensorRole.VariantTensor, LoraVariants.LycorisNorm),
        ("b_norm", LoraTensorRole.VariantTensor, LoraVariants.LycorisNorm),
        ("oft_blocks", LoraTensorRole.VariantTensor, LoraVariants.Oft),
        ("oft_diag", LoraTensorRole.VariantTensor, LoraVariants.Oft),
        ("on_input", LoraTensorRole.VariantTensor, LoraVariants.IA3),
        ("weight", LoraTensorRole.VariantTensor, LoraVariants.IA3),
    };

    // Dotted (PEFT / old diffusers) suffixes, longest first: suffix, role, format, variant.
    private static readonly (string Suffix, LoraTensorRole Role, string Format, string? Variant)[] DottedSuffixes =
    {
        (".lora_magnitude_vector.weight", LoraTensorRole.Magnitude, LoraKeyFormats.Peft, null),
        (".lora_magnitude_vector", LoraTensorRole.Magnitude, LoraKeyFormats.Peft, null),
        (".lora_linear_layer.down.weight", LoraTensorRole.A, LoraKeyFormats.DiffusersOld, null),
        (".lora_linear_layer.up.weight", LoraTensorRole.B, LoraKeyFormats.DiffusersOld, null),
        (".lora_embedding_A", LoraTensorRole.VariantTensor, LoraKeyFormats.Peft, LoraVariants.PeftEmbedding),
        (".lora_embedding_B", LoraTensorRole.VariantTensor, LoraKeyFormats.Peft, LoraVariants.PeftEmbedding),
        (".lora_A.weight", LoraTensorRole.A, LoraKeyFormats.Peft, null),
        (".lora_B.weight", LoraTensorRole.B, LoraKeyFormats.Peft, null),
        (".lora_B.bias", LoraTensorRole.BBias, LoraKeyFormats.Peft, LoraVariants.LoraBias),
        (".lora.down.weight", LoraTensorRole.A, LoraKeyFormats.DiffusersOld, null),
        (".lora.up.weight", LoraTensorRole.B, LoraKeyFormats.DiffusersOld, null),
        ("_lora.down.weight", LoraTensorRole.A, LoraKeyFormats.DiffusersOld, null),
        ("_lora.up.weight", LoraTensorRole.B, LoraKeyFormats.DiffusersOld, null),
        (".alpha", LoraTensorRole.Alpha, LoraKeyFormats.Peft, null),
    };

    private readonly Dictionary<string, string> _unetKohya = new Dictionary<string, string>(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _unetKohyaSgm = new Dictionary<string, string>(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _textEncoderKohya = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Builds the lookup tables for <paramref name="options"/> (default: SDXL, CLIP-L, CLIP-G).</summary>
    public LoraKeyCanonicalizer(LoraFileModelOptions? options = null)
    {
        Options = options ?? LoraFileModelOptions.Default;
        var unetLayouts = new List<UnetLayout> { Options.Unet };
        foreach (var l in UnetLayout.BuiltIn) if (!unetLayouts.Contains(l)) unetLayouts.Add(l);
        foreach (var layout in unetLayouts)
        {
            foreach (var m in layout.Modules) AddUnique(_unetKohya, Underscored(m.Path), m.Path);
            // SGM indices follow from layers_per_block; other layouts' SGM names agree with the primary one exactly
            // when every block of both has the same layers_per_block.
            if (layout == Options.Unet || SameUniformLayersPerBlock(layout, Options.Unet))
                foreach (var m in layout.Modules)
                    if (m.SgmPath != null) AddUnique(_unetKohyaSgm, Underscored(m.SgmPath), m.Path);
        }
        var teLayouts = new List<TextEncoderLayout> { Options.TextEncoder, Options.TextEncoder2 };
        foreach (var l in TextEncoderLayout.BuiltIn) teLayouts.Add(l);
        foreach (var layout in teLayouts)
            foreach (var m in layout.Modules) AddUnique(_textEncoderKohya, Underscored(m.Path), m.Path);
    }

    /// <summary>The layouts this canonicalizer resolves against.</summary>
    public LoraFileModelOptions Options { get; }

    /// <summary>A shared instance for <paramref name="options"/> (built once per options object).</summary>
    public static LoraKeyCanonicalizer For(LoraFileModelOptions? options) =>
        Cache.GetValue(options ?? LoraFileModelOptions.Default, o => new LoraKeyCanonicalizer(o));

    /// <summary>
    /// Canonicalizes <paramref name="key"/>. Returns false when the key belongs to no known family or names no known
    /// module (the caller reports it as unmapped). Tensors of unsupported variants map with
    /// <see cref="LoraTensorRole.VariantTensor"/> and a <see cref="LoraKeyMapping.Variant"/>; LoHa and LoKr tensors map
    /// with their own roles (<see cref="LoraTensorRole.HadaW1A"/>, …), in kohya names and in the diffusers-path form
    /// LoraSdk saves them in (<c>unet.&lt;module&gt;.hada_w1_a</c>, <see cref="LoraKeyFormats.LycorisDiffusers"/>).
    /// </summary>
    public bool TryMap(string key, out LoraKeyMapping mapping)
    {
        if (key == null) throw new ArgumentNullException(nameof(key));
        mapping = null!;
        if (key.StartsWith("lora_unet_", StringComparison.Ordinal)
            || key.StartsWith("lora_te_", StringComparison.Ordinal)
            || key.StartsWith("lora_te1_", StringComparison.Ordinal)
            || key.StartsWith("lora_te2_", StringComparison.Ordinal))
            return TryMapKohya(key, out mapping);
        return TryMapDotted(key, out mapping);
    }

    private bool TryMapKohya(string key, out LoraKeyMapping mapping)
    {
        mapping = null!;
        int dot = key.IndexOf('.');
        if (dot < 0) return false;
        string loraName = key.Substring(0, dot);
        string suffix = key.Substring(dot + 1);
        LoraTensorRole role = default;
        string? variant = null;
        bool found = false;
        foreach (var s in KohyaSuffixes)
        {
            if (s.Suffix == suffix)
            {
                role = s.Role;
                variant = s.Variant;
                found = true;
                break;
            }
        }
        if (!found)
        {
            foreach (var s in LycorisTensorNames.All)
            {
                if (s.Suffix == suffix)
                {
                    role = s.Role;
                    variant = s.Variant;
                    found = true;
                    break;
                }
            }
        }
        if (!found) return false;

        string component;
        string? path;
        string format = LoraKeyFormats.Kohya;
        if (loraName.StartsWith("lora_unet_", StringComparison.Ordinal))
        {
            component = LoraComponents.Unet;
            string rest = loraName.Substring("lora_unet_".Length);
            if (_unetKohya.TryGetValue(rest, out var p)) path = p;
            else if (_unetKohyaSgm.TryGetValue(rest, out p)) { path = p; format = LoraKeyFormats.KohyaSgm; }
            else path = null;
        }
        else
        {
            string rest;
            if (loraName.StartsWith("lora_te2_", StringComparison.Ordinal))
            {
                component = LoraComponents.TextEncoder2;
                rest = loraName.Substring("lora_te2_".Length);
            }
            else
            {
                component = LoraComponents.TextEncoder;
                rest = loraName.Substring(loraName.StartsWith("lora_te1_", StringComparison.Ordinal) ? "lora_te1_".Length : "lora_te_".Length);
            }
            if (rest.StartsWith("text_model_", StringComparison.Ordinal)) rest = rest.Substring("text_model_".Length);
            path = _textEncoderKohya.TryGetValue(rest, out var p) ? p : null;
        }
        // Keys of an unknown module are unmapped, unless they belong to a variant the engine refuses (reported as such).
        if (path == null && (variant == null || LycorisTensorNames.VariantOf(role) != null)) return false;
        if (role == LoraTensorRole.Mid || variant != null) format = LoraKeyFormats.Lycoris;
        mapping = new LoraKeyMapping(key, component, path, role, format, variant);
        return true;
    }

    private static bool TryMapDotted(string key, out LoraKeyMapping mapping)
    {
        mapping = null!;
        string? suffix = null;
        LoraTensorRole role = default;
        string format = LoraKeyFormats.Peft;
        string? variant = null;
        foreach (var s in DottedSuffixes)
        {
            if (key.EndsWith(s.Suffix, StringComparison.Ordinal) && key.Length > s.Suffix.Length)
            {
                suffix = s.Suffix;
                role = s.Role;
                format = s.Format;
                variant = s.Variant;
                break;
            }
        }
        if (suffix == null)
        {
            // LoHa / LoKr tensors under a diffusers module path: the form LoraSdk saves them in.
            foreach (var s in LycorisTensorNames.All)
            {
                string dotted = "." + s.Suffix;
                if (key.EndsWith(dotted, StringComparison.Ordinal) && key.Length > dotted.Length)
                {
                    suffix = dotted;
                    role = s.Role;
                    format = LoraKeyFormats.LycorisDiffusers;
                    variant = s.Variant;
                    break;
                }
            }
        }
        if (suffix == null) return false;
        string module = key.Substring(0, key.Length - suffix.Length);
        bool processorStyle = suffix[0] == '_'; // "to_q_lora.down.weight": the module name lacks "_lora"

        if (module.StartsWith("base_model.model.", StringComparison.Ordinal)) module = module.Substring("base_model.model.".Length);
        string component;
        if (module.StartsWith("unet.", StringComparison.Ordinal)) { component = LoraComponents.Unet; module = module.Substring(5); }
        else if (module.StartsWith("text_encoder.", StringComparison.Ordinal)) { component = LoraComponents.TextEncoder; module = module.Substring(13); }
        else if (module.StartsWith("text_encoder_2.", StringComparison.Ordinal)) { component = LoraComponents.TextEncoder2; module = module.Substring(15); }
        else if (module.StartsWith("transformer.", StringComparison.Ordinal)) { component = LoraComponents.Transformer; module = module.Substring(12); }
        else
        {
            int rootEnd = module.IndexOf('.');
            component = module.StartsWith("text_model.", StringComparison.Ordinal) || module.StartsWith("encoder.layers.", StringComparison.Ordinal)
                ? LoraComponents.TextEncoder
                : FluxModuleNames.TransformerRoots.Contains(rootEnd < 0 ? module : module.Substring(0, rootEnd)) ? LoraComponents.Transformer
                : LoraComponents.Unet;
        }

        if (role == LoraTensorRole.Alpha)
        {
            // "<module>.alpha", "<module>.lora.alpha" or "<module>.lora_linear_layer.alpha" (network alphas of old files).
            if (module.EndsWith(".lora_linear_layer", StringComparison.Ordinal)) module = module.Substring(0, module.Length - ".lora_linear_layer".Length);
            else if (module.EndsWith(".lora", StringComparison.Ordinal)) module = module.Substring(0, module.Length - ".lora".Length);
            format = LoraKeyFormats.Peft;
        }

        module = RemoveSegment(module, "processor");
        bool textEncoder = LoraComponents.IsTextEncoder(component);
        if (textEncoder && module.StartsWith("text_model.", StringComparison.Ordinal)) module = module.Substring("text_model.".Length);
        if (processorStyle && !TryRenameProcessorModule(ref module, textEncoder)) return false;
        if (!IsValidPath(module)) return false;
        int firstDot = module.IndexOf('.');
        string root = firstDot < 0 ? module : module.Substring(0, firstDot);
        var roots = textEncoder ? TextEncoderRoots : component == LoraComponents.Transformer ? FluxModuleNames.TransformerRoots : UnetRoots;
        if (!roots.Contains(root)) return false;
        mapping = new LoraKeyMapping(key, component, module, role, format, variant);
        return true;
    }

    /// <summary>Old attention-processor names: <c>…attn1.to_q</c> (from <c>to_q_lora</c>) and <c>to_out</c> → <c>to_out.0</c>; text encoders use q_proj/k_proj/v_proj/out_proj.</summary>
    private static bool TryRenameProcessorModule(ref string module, bool textEncoder)
    {
        int dot = module.LastIndexOf('.');
        string parent = dot < 0 ? string.Empty : module.Substring(0, dot + 1);
        string leaf = dot < 0 ? module : module.Substring(dot + 1);
        string? renamed = leaf switch
        {
            "to_q" => textEncoder ? "q_proj" : "to_q",
            "to_k" => textEncoder ? "k_proj" : "to_k",
            "to_v" => textEncoder ? "v_proj" : "to_v",
            "to_out" => textEncoder ? "out_proj" : "to_out.0",
            _ => null,
        };
        if (renamed == null) return false;
        module = parent + renamed;
        return true;
    }

    private static string RemoveSegment(string path, string segment)
    {
        if (path.IndexOf(segment, StringComparison.Ordinal) < 0) return path;
        var parts = path.Split('.');
        var kept = new List<string>(parts.Length);
        foreach (var p in parts) if (p != segment) kept.Add(p);
        return string.Join(".", kept);
    }

    private static bool IsValidPath(string path)
    {
        if (path.Length == 0) return false;
        foreach (var part in path.Split('.')) if (part.Length == 0) return false;
        return true;
    }

    private static bool SameUniformLayersPerBlock(UnetLayout a, UnetLayout b)
    {
        int v = b.LayersPerBlock[0];
        foreach (int x in b.LayersPerBlock) if (x != v) return false;
        foreach (int x in a.LayersPerBlock) if (x != v) return false;
        return true;
    }

    private static void AddUnique(Dictionary<string, string> index, string underscored, string path)
    {
        if (!index.ContainsKey(underscored)) index[underscored] = path;
    }

    /// <summary>The kohya spelling of a module path: every '.' replaced by '_'.</summary>
    public static string Underscored(string path) => path.Replace('.', '_');
}
