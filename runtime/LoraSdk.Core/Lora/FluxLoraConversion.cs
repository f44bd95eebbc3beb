using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// The file-level Flux key conversions of diffusers' <c>FluxLoraLoaderMixin.lora_state_dict</c> (diffusers
/// <c>lora_conversion_utils.py</c>), header-only: decides the layout as diffusers does (kohya first — any
/// <c>.lora_down.weight</c> — then XLabs, then BFL names) and produces, for every diffusers module, where its
/// lora_A / lora_B come from (<see cref="FluxModuleSource"/>), plus the keys diffusers drops (<see cref="IgnoredLoraKey"/>)
/// and those that map nowhere. Files without a Flux-specific key return null and are read key by key
/// (<see cref="LoraKeyCanonicalizer"/>, which also maps PEFT <c>transformer.</c> keys).
/// </summary>
internal static class FluxLoraConversion
{
    internal sealed class Result
    {
        public List<FluxModuleSource> Sources { get; } = new List<FluxModuleSource>();
        public List<LoraKeyMapping> Mappings { get; } = new List<LoraKeyMapping>();
        public List<string> Unmapped { get; } = new List<string>();
        public List<IgnoredLoraKey> Ignored { get; } = new List<IgnoredLoraKey>();
        public SortedDictionary<string, List<string>> Unsupported { get; } = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);

        public void Unsupport(string variant, string key)
        {
            if (!Unsupported.TryGetValue(variant, out var list)) Unsupported[variant] = list = new List<string>();
            list.Add(key);
        }
    }

    private const string NonBlockDropped =
        "diffusers' kohya Flux conversion returns this layer without the 'transformer.' prefix, so load_lora_weights drops it";

    /// <summary>Converts a Flux file; null when the file has no Flux-specific key (then it is read key by key).</summary>
    public static Result? TryConvert(IReadOnlyList<string> keys, LoraKeyCanonicalizer canonicalizer, LoraFileModelOptions options)
    {
        bool kohya = keys.Any(k => k.IndexOf(".lora_down.weight", StringComparison.Ordinal) >= 0);
        if (kohya)
        {
            if (keys.Any(k => k.StartsWith("transformer.", StringComparison.Ordinal))) return PeftWithKohyaSuffixes(keys);
            if (keys.Any(k => k.StartsWith("lora_transformer_", StringComparison.Ordinal)
                              && (k.IndexOf("lora_down", StringComparison.Ordinal) >= 0 || k.IndexOf("lora_up", StringComparison.Ordinal) >= 0
                                  || k.IndexOf("alpha", StringComparison.Ordinal) >= 0)))
                return KohyaTransformer(keys, canonicalizer, options);
            return keys.Any(IsKohyaFluxKey) ? KohyaFlux(keys, canonicalizer) : null;
        }
        if (keys.Any(k => k.IndexOf("processor", StringComparison.Ordinal) >= 0) && keys.Any(k => XLabsModule(k, out _) != null))
            return XLabs(keys);
        if (keys.Any(k => BflModule(k, out _, out _) != null || k.EndsWith("query_norm.scale", StringComparison.Ordinal)))
            return Bfl(keys);
        return null;
    }

    // ---------------------------------------------------------------- kohya / sd-scripts / ComfyUI

    private static bool IsKohyaFluxKey(string key)
    {
        string k = key.Replace("diffusion_model.", "lora_unet_");
        if (!k.StartsWith("lora_unet_", StringComparison.Ordinal)) return false;
        string name = CustomReplace(k, new[] { "lora_down", "lora_up", "alpha" });
        int dot = name.IndexOf('.');
        return FluxModuleNames.TryResolve((dot < 0 ? name : name.Substring(0, dot)).Substring("lora_unet_".Length), underscored: true, out _);
    }

    private static Result KohyaFlux(IReadOnlyList<string> keys, LoraKeyCanonicalizer canonicalizer)
    {
        var result = new Result();
        bool hasAlpha = keys.Any(k => k.IndexOf("alpha", StringComparison.Ordinal) >= 0);
        var limits = hasAlpha ? new[] { "lora_down", "lora_up", "alpha" } : new[] { "lora_down", "lora_up" };
        bool hasDiffB = keys.Any(k => k.IndexOf("diff_b", StringComparison.Ordinal) >= 0
                                      && (k.StartsWith("lora_unet_", StringComparison.Ordinal) || k.StartsWith("lora_te_", StringComparison.Ordinal)
                                          || k.StartsWith("lora_te1_", StringComparison.Ordinal)));
        bool hasNormDiff = keys.Any(k => k.IndexOf(".norm", StringComparison.Ordinal) >= 0 && k.IndexOf(".diff", StringComparison.Ordinal) >= 0);

        // The ComfyUI spelling becomes kohya's; the layers diffusers filters out before converting are reported as ignored.
        var layers = new SortedDictionary<string, Dictionary<LoraTensorRole, string>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            string k = key.Replace("diffusion_model.", "lora_unet_").Replace("text_encoders.clip_l.transformer.", "lora_te_");
            if (k.IndexOf("position_embedding", StringComparison.Ordinal) >= 0)
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "position_embedding LoRA: diffusers' Flux conversion drops it"));
                continue;
            }
            if (k.StartsWith("text_encoders.t5xxl.transformer.", StringComparison.Ordinal))
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "T5 (text_encoder_2) LoRA: diffusers' Flux pipeline loads no T5 LoRA and drops it"));
                continue;
            }
            if (hasDiffB && k.IndexOf(".diff_b", StringComparison.Ordinal) >= 0)
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "diff_b (bias difference): diffusers' Flux conversion drops it"));
                continue;
            }
            if (hasNormDiff && (k.IndexOf(".norm", StringComparison.Ordinal) >= 0 || k.IndexOf(".diff", StringComparison.Ordinal) >= 0))
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "norm / diff weights: diffusers' Flux conversion drops them"));
                continue;
            }
            k = CustomReplace(k, limits);
            if (!k.StartsWith("lora_unet_", StringComparison.Ordinal) && !k.StartsWith("lora_te_", StringComparison.Ordinal)
                && !k.StartsWith("lora_te1_", StringComparison.Ordinal))
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "not a lora_unet_ / lora_te_ / lora_te1_ key: diffusers' kohya Flux conversion drops it"));
                continue;
            }
            if (k.IndexOf("text_projection", StringComparison.Ordinal) >= 0)
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "text_projection LoRA: diffusers' Flux conversion drops it"));
                continue;
            }
            int dot = k.IndexOf('.');
            string name = dot < 0 ? k : k.Substring(0, dot);
            string suffix = dot < 0 ? "" : k.Substring(dot + 1);
            if (suffix == "dora_scale")
            {
                result.Unsupport(LoraVariants.KohyaDora, key);
                continue;
            }
            LoraTensorRole role;
            if (suffix == "lora_down.weight") role = LoraTensorRole.A;
            else if (suffix == "lora_up.weight") role = LoraTensorRole.B;
            else if (suffix == "alpha") role = LoraTensorRole.Alpha;
            else
            {
                result.Unmapped.Add(key);
                continue;
            }
            if (!layers.TryGetValue(name, out var roles)) layers[name] = roles = new Dictionary<LoraTensorRole, string>();
            if (roles.ContainsKey(role)) result.Unmapped.Add(key); // two spellings of one tensor: diffusers keeps one
            else roles[role] = key;
        }

        foreach (var layer in layers)
        {
            string name = layer.Key;
            var roles = layer.Value;
            if (name.StartsWith("lora_unet_", StringComparison.Ordinal))
            {
                if (!FluxModuleNames.TryResolve(name.Substring("lora_unet_".Length), underscored: true, out var resolved)
                    || (!resolved.IsRoot && resolved.Block >= (resolved.Single ? FluxModuleNames.KohyaSingleBlocks : FluxModuleNames.KohyaDoubleBlocks)))
                {
                    result.Unmapped.AddRange(roles.Values);
                    continue;
                }
                if (resolved.IsRoot)
                {
                    foreach (var key in roles.Values)
                    {
                        result.Ignored.Add(new IgnoredLoraKey(key, key.EndsWith("alpha", StringComparison.Ordinal) && name.StartsWith("lora_unet_final_layer", StringComparison.Ordinal)
                            ? "final-layer alpha: diffusers' kohya Flux conversion ignores it (and drops the layer: no 'transformer.' prefix)"
                            : NonBlockDropped));
                    }
                    continue;
                }
                AddSplit(result, LoraComponents.Transformer, LoraKeyFormats.KohyaFlux, name, roles, resolved,
                    resolved.Entry.Targets.Length > 1 ? FluxAlphaFold.Tensor : FluxAlphaFold.Scalar, kohyaCat: resolved.Entry.Targets.Length > 1);
                continue;
            }
            // lora_te_ / lora_te1_: CLIP (text_encoder), alpha folded with alpha.item() like the transformer's single layers.
            string? path = TextEncoderPath(canonicalizer, roles);
            if (path == null)
            {
                result.Unmapped.AddRange(roles.Values);
                continue;
            }
            AddSingle(result, LoraComponents.TextEncoder, path, LoraKeyFormats.KohyaFlux, name, roles, FluxAlphaFold.Scalar);
        }
        return result;
    }

    private static string? TextEncoderPath(LoraKeyCanonicalizer canonicalizer, Dictionary<LoraTensorRole, string> roles)
    {
        foreach (var key in roles.Values)
        {
            // The canonicalizer knows the CLIP layouts' kohya names; the file key may be ComfyUI-spelled, so map kohya's.
            string kohya = key.Replace("text_encoders.clip_l.transformer.", "lora_te_");
            kohya = CustomReplace(kohya, new[] { "lora_down", "lora_up", "alpha" });
            if (canonicalizer.TryMap(kohya, out var m) && m.Component == LoraComponents.TextEncoder && m.ModulePath != null) return m.ModulePath;
        }
        return null;
    }

    /// <summary>
    /// diffusers' <c>_custom_replace</c>: '.' → '_' in the part before the first of <paramref name="substrings"/> (the
    /// dot just before it is kept); the whole key when none occurs.
    /// </summary>
    internal static string CustomReplace(string key, string[] substrings)
    {
        int start = -1;
        foreach (var s in substrings)
        {
            int i = key.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (start < 0 || i < start)) start = i;
        }
        if (start < 0) return key.Replace('.', '_');
        int boundary = start > 0 && key[start - 1] == '.' ? start - 1 : start;
        return key.Substring(0, boundary).Replace('.', '_') + key.Substring(boundary);
    }

    // ---------------------------------------------------------------- kohya with diffusers names (lora_transformer_)

    private static Result KohyaTransformer(IReadOnlyList<string> keys, LoraKeyCanonicalizer canonicalizer, LoraFileModelOptions options)
    {
        var result = new Result();
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layout in new[] { options.Transformer }.Concat(FluxTransformerLayout.BuiltIn))
            foreach (var m in layout.Modules)
                if (!index.ContainsKey(LoraKeyCanonicalizer.Underscored(m.Path))) index[LoraKeyCanonicalizer.Underscored(m.Path)] = m.Path;
        var layers = new SortedDictionary<string, Dictionary<LoraTensorRole, string>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            int dot = key.IndexOf('.');
            string name = dot < 0 ? key : key.Substring(0, dot);
            string suffix = dot < 0 ? "" : key.Substring(dot + 1);
            if (name.StartsWith("lora_unet_", StringComparison.Ordinal))
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "lora_unet_ key in a lora_transformer_ file: diffusers' Flux conversion drops it"));
                continue;
            }
            LoraTensorRole role;
            if (suffix == "lora_down.weight") role = LoraTensorRole.A;
            else if (suffix == "lora_up.weight") role = LoraTensorRole.B;
            else if (suffix == "alpha") role = LoraTensorRole.Alpha;
            else
            {
                result.Unmapped.Add(key);
                continue;
            }
            if (!layers.TryGetValue(name, out var roles)) layers[name] = roles = new Dictionary<LoraTensorRole, string>();
            roles[role] = key;
        }
        foreach (var layer in layers)
        {
            string name = layer.Key;
            if (name.StartsWith("lora_transformer_", StringComparison.Ordinal) && index.TryGetValue(name.Substring("lora_transformer_".Length), out var path))
            {
                AddSingle(result, LoraComponents.Transformer, path, LoraKeyFormats.KohyaTransformer, name, layer.Value, FluxAlphaFold.Tensor);
                continue;
            }
            string? te = name.StartsWith("lora_te1_", StringComparison.Ordinal) ? TextEncoderPath(canonicalizer, layer.Value) : null;
            if (te == null)
            {
                result.Unmapped.AddRange(layer.Value.Values);
                continue;
            }
            AddSingle(result, LoraComponents.TextEncoder, te, LoraKeyFormats.KohyaTransformer, name, layer.Value, FluxAlphaFold.Tensor);
        }
        return result;
    }

    // ---------------------------------------------------------------- PEFT transformer. keys with kohya suffixes

    private static Result PeftWithKohyaSuffixes(IReadOnlyList<string> keys)
    {
        var result = new Result();
        var layers = new SortedDictionary<string, Dictionary<LoraTensorRole, string>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!key.StartsWith("transformer.", StringComparison.Ordinal))
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "diffusers keeps only the 'transformer.' keys of a kohya-suffixed file that has them"));
                continue;
            }
            string k = key.Replace("lora_down.weight", "lora_A.weight").Replace("lora_up.weight", "lora_B.weight");
            LoraTensorRole role;
            string module;
            if (k.EndsWith(".lora_A.weight", StringComparison.Ordinal)) { role = LoraTensorRole.A; module = k.Substring(0, k.Length - ".lora_A.weight".Length); }
            else if (k.EndsWith(".lora_B.weight", StringComparison.Ordinal)) { role = LoraTensorRole.B; module = k.Substring(0, k.Length - ".lora_B.weight".Length); }
            else
            {
                result.Ignored.Add(new IgnoredLoraKey(key, "not a lora_A / lora_B weight: diffusers does not use it for this layout"));
                continue;
            }
            module = module.Substring("transformer.".Length);
            int dot = module.IndexOf('.');
            if (!FluxModuleNames.TransformerRoots.Contains(dot < 0 ? module : module.Substring(0, dot)))
            {
                result.Unmapped.Add(key);
                continue;
            }
            if (!layers.TryGetValue(module, out var roles)) layers[module] = roles = new Dictionary<LoraTensorRole, string>();
            roles[role] = key;
        }
        foreach (var layer in layers)
            AddSingle(result, LoraComponents.Transformer, layer.Key, LoraKeyFormats.Peft, "transformer." + layer.Key, layer.Value, FluxAlphaFold.None);
        return result;
    }

    // ---------------------------------------------------------------- XLabs

    /// <summary>The XLabs module of <paramref name="key"/> (without <c>diffusion_model.</c>) and its role, or null.</summary>
    private static string? XLabsModule(string key, out LoraTensorRole role)
    {
        role = default;
        string k = key.StartsWith("diffusion_model.", StringComparison.Ordinal) ? key.Substring("diffusion_model.".Length) : key;
        string module;
        if (k.EndsWith(".down.weight", StringComparison.Ordinal)) { role = LoraTensorRole.A; module = k.Substring(0, k.Length - ".down.weight".Length); }
        else if (k.EndsWith(".up.weight", StringComparison.Ordinal)) { role = LoraTensorRole.B; module = k.Substring(0, k.Length - ".up.weight".Length); }
        else return null;
        return FluxModuleNames.TryXLabs(module, out _) ? module : null;
    }

    private static Result XLabs(IReadOnlyList<string> keys)
    {
        var result = new Result();
        var layers = new SortedDictionary<string, Dictionary<LoraTensorRole, string>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            string? module = XLabsModule(key, out var role);
            if (module == null)
            {
                string k = key.StartsWith("diffusion_model.", StringComparison.Ordinal) ? key.Substring("diffusion_model.".Length) : key;
                if (k.StartsWith("double_blocks.", StringComparison.Ordinal) || k.StartsWith("single_blocks.", StringComparison.Ordinal)) result.Unmapped.Add(key);
                else result.Ignored.Add(new IgnoredLoraKey(key, "diffusers' XLabs conversion keeps this key unconverted (no 'transformer.' prefix), so load_lora_weights drops it"));
                continue;
            }
            if (!layers.TryGetValue(module, out var roles)) layers[module] = roles = new Dictionary<LoraTensorRole, string>();
            if (roles.ContainsKey(role)) result.Unmapped.Add(key);
            else roles[role] = key;
        }
        foreach (var layer in layers)
        {
            FluxModuleNames.TryXLabs(layer.Key, out var targets);
            AddTargets(result, LoraComponents.Transformer, LoraKeyFormats.XLabs, layer.Key, layer.Value, targets,
                targets.Length > 1 ? FluxModuleNames.Split.Equal : FluxModuleNames.Split.None, false, FluxAlphaFold.None, kohyaCat: false);
        }
        return result;
    }

    // ---------------------------------------------------------------- BFL names with PEFT suffixes (Control, fal Kontext, diffusion_model.)

    private static readonly (string Suffix, LoraTensorRole Role, string? Variant)[] BflSuffixes =
    {
        (".lora_A.weight", LoraTensorRole.A, null),
        (".lora_B.weight", LoraTensorRole.B, null),
        (".lora_A.bias", LoraTensorRole.VariantTensor, LoraVariants.LoraBias),
        (".lora_B.bias", LoraTensorRole.VariantTensor, LoraVariants.LoraBias),
        (".alpha", LoraTensorRole.Alpha, null),
    };

    /// <summary>The BFL module of <paramref name="key"/> (prefix <c>diffusion_model.</c> / <c>base_model.model.</c> removed), its role and variant, or null.</summary>
    private static string? BflModule(string key, out LoraTensorRole role, out string? variant)
    {
        role = default;
        variant = null;
        string k = key;
        if (k.StartsWith("diffusion_model.", StringComparison.Ordinal)) k = k.Substring("diffusion_model.".Length);
        else if (k.StartsWith("base_model.model.", StringComparison.Ordinal)) k = k.Substring("base_model.model.".Length);
        foreach (var s in BflSuffixes)
        {
            if (!k.EndsWith(s.Suffix, StringComparison.Ordinal)) continue;
            string module = k.Substring(0, k.Length - s.Suffix.Length);
            if (!FluxModuleNames.TryResolve(module, underscored: false, out _)) return null;
            role = s.Role;
            variant = s.Variant;
            return module;
        }
        return null;
    }

    private static Result Bfl(IReadOnlyList<string> keys)
    {
        var result = new Result();
        var layers = new SortedDictionary<string, Dictionary<LoraTensorRole, string>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (key.EndsWith("query_norm.scale", StringComparison.Ordinal) || key.EndsWith("key_norm.scale", StringComparison.Ordinal))
            {
                result.Unsupport(LoraVariants.FluxControlNorm, key);
                continue;
            }
            string? module = BflModule(key, out var role, out var variant);
            if (module == null)
            {
                result.Unmapped.Add(key);
                continue;
            }
            if (variant != null)
            {
                result.Unsupport(variant, key);
                continue;
            }
            if (!layers.TryGetValue(module, out var roles)) layers[module] = roles = new Dictionary<LoraTensorRole, string>();
            if (roles.ContainsKey(role)) result.Unmapped.Add(key);
            else roles[role] = key;
        }
        foreach (var layer in layers)
        {
            FluxModuleNames.TryResolve(layer.Key, underscored: false, out var resolved);
            AddSplit(result, LoraComponents.Transformer, LoraKeyFormats.Bfl, layer.Key, layer.Value, resolved, FluxAlphaFold.Keep, kohyaCat: false);
        }
        return result;
    }

    // ---------------------------------------------------------------- sources

    private static void AddSplit(Result result, string component, string format, string source, Dictionary<LoraTensorRole, string> roles,
        FluxModuleNames.Resolved resolved, FluxAlphaFold fold, bool kohyaCat)
    {
        var targets = new string[resolved.Entry.Targets.Length];
        for (int i = 0; i < targets.Length; i++) targets[i] = resolved.Target(i);
        AddTargets(result, component, format, source, roles, targets, resolved.Entry.SplitKind, resolved.Entry.SwapBHalves, fold, kohyaCat);
    }

    private static void AddSingle(Result result, string component, string path, string format, string source, Dictionary<LoraTensorRole, string> roles,
        FluxAlphaFold fold) =>
        AddTargets(result, component, format, source, roles, new[] { path }, FluxModuleNames.Split.None, false, fold, kohyaCat: false);

    private static void AddTargets(Result result, string component, string format, string source, Dictionary<LoraTensorRole, string> roles,
        string[] targets, FluxModuleNames.Split split, bool swap, FluxAlphaFold fold, bool kohyaCat)
    {
        roles.TryGetValue(LoraTensorRole.A, out var a);
        roles.TryGetValue(LoraTensorRole.B, out var b);
        roles.TryGetValue(LoraTensorRole.Alpha, out var alpha);
        var keys = roles.Values.OrderBy(k => k, StringComparer.Ordinal).ToList().AsReadOnly();
        foreach (var target in targets)
            foreach (var r in roles)
                result.Mappings.Add(new LoraKeyMapping(r.Value, component, target, r.Key, format));
        if (a == null || b == null)
        {
            // Reported by the builder as an invalid module (diffusers silently skips a kohya layer without lora_down).
            result.Sources.Add(new FluxModuleSource(component, targets[0], format, source, a ?? "", b ?? "", alpha, keys, 0, 1,
                FluxModuleNames.Split.None, false, fold, false));
            return;
        }
        for (int i = 0; i < targets.Length; i++)
        {
            result.Sources.Add(new FluxModuleSource(component, targets[i], format, source, a, b, alpha, keys, i, targets.Length,
                targets.Length > 1 ? split : FluxModuleNames.Split.None, swap, fold, kohyaCat));
        }
    }
}
