using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// Builds the text of one header sidecar (format version <see cref="FormatVersion"/>, documented in
/// docs/generator.md): only what the source generator reads, so a cold generator run parses a few dozen KB per
/// SDXL-sized adapter instead of the full <c>lorasdk inspect --json</c> document.
/// <list type="bullet">
/// <item><description>Identity and status (always): <c>lorasdkSidecar</c>, <c>manifest</c>, <c>file</c> (as written in
/// the manifest), <c>path</c>, <c>fileName</c>, <c>fileSize</c>, <c>sha256</c>, <c>status</c>
/// (<c>ok</c>/<c>missing</c>/<c>invalid</c>), <c>error</c>, <c>baseModel</c>, <c>baseModelError</c>.</description></item>
/// <item><description>File facts (<c>ok</c> only): <c>runtimePath</c> (where the file is copied next to the app,
/// <see cref="AdapterOutputPath"/>), <c>format</c>, <c>triggerWords</c>, <c>declaredArchitecture</c>,
/// <c>impliedArchitecture</c>, <c>usesRsLora</c>, <c>unmapped</c>, <c>unsupported</c>
/// (<c>{variant, keys}</c>: every variant the runtime engine refuses at load, <see cref="LoraVariantPolicy.Refused"/>),
/// <c>invalid</c> (<c>{component, module, reason}</c>) and
/// <c>compatibility</c> (<c>{component, module, reason, kind: missing|mismatch}</c> against the base model).</description></item>
/// <item><description><c>components</c>: per component <c>{rank, alpha, modules, ranks?, alphas?, conv2d?, variants?}</c> —
/// <c>modules</c> is the ordinal-sorted module paths; every module has rank <c>rank</c> and alpha <c>alpha</c> (the
/// most common values, ties → the larger) except those listed in <c>ranks</c> / <c>alphas</c> (objects path →
/// value); <c>conv2d</c> lists the Conv2d modules (every other module is Linear); <c>variants</c> the ordinal-sorted
/// <see cref="LoraVariants"/> of the modules, omitted when every module is plain LoRA. Empty lists are omitted.</description></item>
/// </list>
/// </summary>
internal static class SidecarDocument
{
    /// <summary>
    /// Version 1 was the full inspect document; version 2 the slim document above; version 3 adds <c>runtimePath</c>;
    /// version 4 adds the components' <c>variants</c> (LoHa and LoKr are modules now, no longer <c>unsupported</c>).
    /// </summary>
    public const int FormatVersion = 4;

    public static string Ok(SidecarIdentity id, long fileSize, string sha256, string runtimePath, LoraFileModel model, BaseModelLayouts layouts)
    {
        var w = new JsonWriter(indented: false);
        w.StartObject();
        Identity(w, id, fileSize, sha256, "ok", null, layouts);
        w.Name("runtimePath").Value(runtimePath);
        w.Name("format").Value(model.Format);
        Strings(w.Name("triggerWords"), model.TriggerWords);
        w.Name("declaredArchitecture").Value(model.DeclaredArchitecture);
        w.Name("impliedArchitecture").Value(layouts.ImpliedArchitecture(model.ImpliedArchitecture));
        w.Name("usesRsLora").Value(model.UsesRsLora);
        w.Name("components").StartObject();
        foreach (var component in model.Components)
        {
            if (component.Value.Count == 0) continue;
            WriteComponent(w.Name(component.Key), component.Value.Values);
        }
        w.EndObject();
        // Keys diffusers drops (kohya Flux non-block layers, T5 keys, ...) will not be applied either: LSDK013 names them.
        Strings(w.Name("unmapped"), model.Unmapped.Concat(model.Ignored.Select(i => i.Key)).OrderBy(k => k, StringComparer.Ordinal).ToList());
        w.Name("unsupported").StartArray();
        foreach (var (variant, keys) in Unsupported(model))
        {
            w.StartObject().Name("variant").Value(variant);
            Strings(w.Name("keys"), keys);
            w.EndObject();
        }
        w.EndArray();
        w.Name("invalid").StartArray();
        foreach (var i in model.InvalidModules)
            w.StartObject().Name("component").Value(i.Component).Name("module").Value(i.ModulePath).Name("reason").Value(i.Reason).EndObject();
        w.EndArray();
        w.Name("compatibility").StartArray();
        foreach (var issue in Compatibility(model, layouts))
        {
            w.StartObject();
            w.Name("component").Value(issue.Component);
            w.Name("module").Value(issue.Module);
            w.Name("reason").Value(issue.Reason);
            w.Name("kind").Value(issue.Missing ? "missing" : "mismatch");
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return w.ToString();
    }

    public static string Failed(SidecarIdentity id, long fileSize, string status, string error, BaseModelLayouts layouts)
    {
        var w = new JsonWriter(indented: false);
        w.StartObject();
        Identity(w, id, fileSize, "", status, error, layouts);
        w.EndObject();
        return w.ToString();
    }

    /// <summary>The most frequent value; ties go to the larger value (the generator's rule for an adapter's rank/alpha).</summary>
    public static T Mode<T>(IEnumerable<T> values)
        where T : IComparable<T>
    {
        var counts = new Dictionary<T, int>();
        foreach (var v in values) counts[v] = counts.TryGetValue(v, out int c) ? c + 1 : 1;
        return counts.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).First().Key;
    }

    private static void WriteComponent(JsonWriter w, IEnumerable<LoraModuleSpec> moduleSpecs)
    {
        var modules = moduleSpecs.OrderBy(m => m.ModulePath, StringComparer.Ordinal).ToList();
        int rank = Mode(modules.Select(m => m.Rank));
        double alpha = Mode(modules.Select(m => m.Alpha));
        w.StartObject();
        w.Name("rank").Value(rank);
        w.Name("alpha").Value(alpha);
        w.Name("modules").StartArray();
        foreach (var m in modules) w.Value(m.ModulePath);
        w.EndArray();
        if (modules.Any(m => m.Rank != rank))
        {
            w.Name("ranks").StartObject();
            foreach (var m in modules.Where(m => m.Rank != rank)) w.Name(m.ModulePath).Value(m.Rank);
            w.EndObject();
        }
        if (modules.Any(m => !m.Alpha.Equals(alpha)))
        {
            w.Name("alphas").StartObject();
            foreach (var m in modules.Where(m => !m.Alpha.Equals(alpha))) w.Name(m.ModulePath).Value(m.Alpha);
            w.EndObject();
        }
        if (modules.Any(m => m.Kind == LoraLayerKind.Conv2d))
            Strings(w.Name("conv2d"), modules.Where(m => m.Kind == LoraLayerKind.Conv2d).Select(m => m.ModulePath).ToList());
        var variants = modules.Select(m => m.Variant).Distinct().OrderBy(v => v, StringComparer.Ordinal).ToList();
        if (variants.Count != 1 || variants[0] != LoraVariants.Lora) Strings(w.Name("variants"), variants);
        w.EndObject();
    }

    /// <summary>Variants the runtime engine refuses to load (the one policy, <see cref="LoraVariantPolicy"/>).</summary>
    private static IEnumerable<(string Variant, IReadOnlyList<string> Keys)> Unsupported(LoraFileModel model)
    {
        foreach (var u in LoraVariantPolicy.Refused(model)) yield return (u.Variant, u.Keys);
    }

    private static void Identity(JsonWriter w, SidecarIdentity id, long fileSize, string sha256, string status, string? error, BaseModelLayouts layouts)
    {
        w.Name("lorasdkSidecar").Value(FormatVersion);
        w.Name("manifest").Value(id.ManifestPath);
        w.Name("file").Value(id.File);
        w.Name("path").Value(id.ResolvedPath);
        w.Name("fileName").Value(id.FileName);
        w.Name("fileSize").Value(fileSize);
        w.Name("sha256").Value(sha256);
        w.Name("status").Value(status);
        if (error != null) w.Name("error").Value(error);
        w.Name("baseModel").Value(layouts.Name);
        if (layouts.Error != null) w.Name("baseModelError").Value(layouts.Error);
    }

    private static void Strings(JsonWriter w, IReadOnlyList<string> items)
    {
        w.StartArray();
        foreach (var s in items) w.Value(s);
        w.EndArray();
    }

    private static IEnumerable<(string Component, string Module, string Reason, bool Missing)> Compatibility(LoraFileModel model, BaseModelLayouts layouts)
    {
        foreach (var issue in model.CheckCompatibility(layouts.Unet, layouts.TextEncoder, layouts.TextEncoder2, layouts.Transformer))
        {
            bool missing = issue.Component == LoraComponents.Unet
                ? layouts.Unet != null && !layouts.Unet.TryGetModule(issue.ModulePath, out _)
                : issue.Component == LoraComponents.Transformer
                    ? layouts.Transformer != null && !layouts.Transformer.TryGetModule(issue.ModulePath, out _)
                    : LayoutOf(issue.Component, layouts) is { } te && !te.TryGetModule(issue.ModulePath, out _);
            yield return (issue.Component, issue.ModulePath, issue.Reason, missing);
        }
        // A denoiser part of the other family (an SDXL LoRA's unet in a Flux manifest, a Flux LoRA's transformer in a UNet
        // one) does not fit the base model: a mismatch (LSDK006, made for another base model), not merely missing layers.
        var (absent, family) = layouts.IsFlux switch
        {
            true => (LoraComponents.Unet, "a Flux transformer model"),
            false => (LoraComponents.Transformer, "a UNet model"),
            _ => (null, null),
        };
        if (absent != null && model.Components.TryGetValue(absent, out var absentModules))
        {
            foreach (var module in absentModules.Keys)
                yield return (absent, module, $"the base model '{layouts.Name}' is {family} and has no {absent}", false);
        }
        if (!layouts.HasTextEncoder2 && model.Components.TryGetValue(LoraComponents.TextEncoder2, out var te2Modules))
        {
            foreach (var module in te2Modules.Keys)
                yield return (LoraComponents.TextEncoder2, module, $"the base model '{layouts.Name}' has no text_encoder_2", true);
        }
    }

    private static TextEncoderLayout? LayoutOf(string component, BaseModelLayouts layouts) =>
        string.Equals(component, LoraComponents.TextEncoder, StringComparison.Ordinal) ? layouts.TextEncoder : layouts.TextEncoder2;
}

/// <summary>Which manifest entry a sidecar describes.</summary>
internal sealed class SidecarIdentity
{
    public SidecarIdentity(string manifestPath, string file, string resolvedPath)
    {
        ManifestPath = manifestPath;
        File = file;
        ResolvedPath = resolvedPath;
        FileName = System.IO.Path.GetFileName(resolvedPath);
    }

    public string ManifestPath { get; }

    public string File { get; }

    public string ResolvedPath { get; }

    public string FileName { get; }
}
