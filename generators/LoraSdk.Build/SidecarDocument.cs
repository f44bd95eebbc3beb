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
/// <item><description>Identity and status (always): <c>lorasdkSidecar</c>, <c>manifest</c>, <c>file</c> and
/// <c>subfolder</c> (as written in the manifest), <c>path</c>, <c>fileName</c>, <c>fileSize</c>, <c>sha256</c>, <c>status</c>
/// (<c>ok</c>/<c>missing</c>/<c>invalid</c>/<c>refused</c>), <c>error</c>, <c>errorAt</c>, <c>baseModel</c>,
/// <c>baseModelError</c>. A PEFT adapter folder's <c>fileSize</c> is its two files' sizes added, its <c>sha256</c> the
/// SHA-256 of their <c>sha256sum</c> listing (<see cref="FolderHash"/>).</description></item>
/// <item><description>PEFT adapter folders (<c>ok</c> only): <c>peft</c> = <c>{config: {size, sha256}, weights: {size,
/// sha256}, warnings}</c>; the components then hold only the modules the config selects.</description></item>
/// <item><description>File facts (<c>ok</c> only): <c>runtimePath</c> (where the file is copied next to the app,
/// <see cref="AdapterOutputPath"/>), <c>format</c>, <c>triggerWords</c>, <c>declaredArchitecture</c>,
/// <c>impliedArchitecture</c>, <c>usesRsLora</c>, <c>unmapped</c>, <c>unsupported</c>
/// (<c>{variant, keys}</c>: every variant the runtime engine refuses at load, <see cref="LoraVariantPolicy.Refused"/>),
/// <c>invalid</c> (<c>{component, module, reason}</c>) and
/// <c>compatibility</c> (<c>{component, module, reason, kind: missing|mismatch}</c> against the base model).</description></item>
/// <item><description><c>components</c>: per component <c>{rank, alpha, modules, ranks?, alphas?, conv2d?, variants?, rsLora?}</c> —
/// <c>modules</c> is the ordinal-sorted module paths; every module has rank <c>rank</c> and alpha <c>alpha</c> (the
/// most common values, ties → the larger) except those listed in <c>ranks</c> / <c>alphas</c> (objects path →
/// value); <c>conv2d</c> lists the Conv2d modules (every other module is Linear); <c>variants</c> the ordinal-sorted
/// <see cref="LoraVariants"/> of the modules, omitted when every module is plain LoRA; <c>rsLora</c> the component's
/// rsLoRA flag, written only where it differs from the file's <c>usesRsLora</c> (a config per component).
/// Empty lists are omitted.</description></item>
/// </list>
/// </summary>
internal static class SidecarDocument
{
    /// <summary>
    /// Version 1 was the full inspect document; version 2 the slim document above; version 3 adds <c>runtimePath</c>;
    /// version 4 adds the components' <c>variants</c> (LoHa and LoKr are modules now, no longer <c>unsupported</c>);
    /// version 5 adds PEFT adapter folders: <c>subfolder</c>, <c>peft</c>, status <c>refused</c>, <c>errorAt</c>, and a
    /// <c>missing</c> sidecar's <c>error</c> is the whole reason ("was not found at '…'", "has no subfolder …"). A
    /// component's optional <c>rsLora</c> (absent: the file's <c>usesRsLora</c>) reads the same in older version-5 sidecars.
    /// </summary>
    public const int FormatVersion = 5;

    public static string Ok(SidecarIdentity id, long fileSize, string sha256, string runtimePath, LoraFileModel model, BaseModelLayouts layouts,
        PeftSidecarInfo? peft = null)
    {
        var w = new JsonWriter(indented: false);
        w.StartObject();
        Identity(w, id, fileSize, sha256, "ok", null, layouts);
        w.Name("runtimePath").Value(runtimePath);
        if (peft != null) Peft(w.Name("peft"), peft);
        w.Name("format").Value(model.Format);
        Strings(w.Name("triggerWords"), model.TriggerWords);
        w.Name("declaredArchitecture").Value(model.DeclaredArchitecture);
        w.Name("impliedArchitecture").Value(layouts.ImpliedArchitecture(model.ImpliedArchitecture));
        w.Name("usesRsLora").Value(model.UsesRsLora);
        // A PEFT folder loads only the modules its config selects (PeftLoadPlan); a file loads every module.
        var loaded = peft?.Plan.Components ?? model.Components.ToDictionary(c => c.Key, c => (IReadOnlyList<LoraModuleSpec>)c.Value.Values.ToList());
        w.Name("components").StartObject();
        foreach (var component in model.Components.Keys)
        {
            if (!loaded.TryGetValue(component, out var modules) || modules.Count == 0) continue;
            WriteComponent(w.Name(component), modules, model.UsesRsLora);
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
        foreach (var issue in Compatibility(model, layouts).Where(i => peft == null || IsLoaded(loaded, i.Component, i.Module)))
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

    /// <summary>
    /// A sidecar without file facts: <paramref name="status"/> <c>missing</c>, <c>invalid</c> or <c>refused</c> (a PEFT
    /// folder the runtime refuses to load), <paramref name="error"/> completing "file '…' …" for <c>missing</c>;
    /// <paramref name="atSubfolder"/> writes <c>"errorAt": "subfolder"</c> (the generator locates it at the entry's <c>subfolder</c>).
    /// </summary>
    public static string Failed(SidecarIdentity id, long fileSize, string status, string error, BaseModelLayouts layouts, bool atSubfolder = false)
    {
        var w = new JsonWriter(indented: false);
        w.StartObject();
        Identity(w, id, fileSize, "", status, error, layouts);
        if (atSubfolder) w.Name("errorAt").Value("subfolder");
        w.EndObject();
        return w.ToString();
    }

    /// <summary>
    /// The content hash of a PEFT adapter folder: the SHA-256 of the <c>sha256sum</c> listing of its files
    /// (<c>&lt;hex&gt;  adapter_config.json\n&lt;hex&gt;  adapter_model.safetensors\n</c>), so it changes when either file does.
    /// </summary>
    public static string FolderHash(IEnumerable<(string Name, string Sha256)> files)
    {
        var listing = new System.Text.StringBuilder();
        foreach (var (name, sha) in files.OrderBy(f => f.Name, StringComparer.Ordinal)) listing.Append(sha).Append("  ").Append(name).Append('\n');
        return BaseModelLayouts.Hash(listing.ToString());
    }

    private static bool IsLoaded(IReadOnlyDictionary<string, IReadOnlyList<LoraModuleSpec>> loaded, string component, string module) =>
        !loaded.TryGetValue(component, out var modules) || modules.Any(m => m.ModulePath == module);

    /// <summary><c>{config: {size, sha256}, weights: {size, sha256}, warnings}</c> of a PEFT adapter folder.</summary>
    private static void Peft(JsonWriter w, PeftSidecarInfo peft)
    {
        w.StartObject();
        w.Name("config").StartObject().Name("size").Value(peft.ConfigSize).Name("sha256").Value(peft.ConfigSha256).EndObject();
        w.Name("weights").StartObject().Name("size").Value(peft.WeightsSize).Name("sha256").Value(peft.WeightsSha256).EndObject();
        Strings(w.Name("warnings"), peft.Plan.Warnings);
        w.EndObject();
    }

    /// <summary>The most frequent value; ties go to the larger value (the generator's rule for an adapter's rank/alpha).</summary>
    public static T Mode<T>(IEnumerable<T> values)
        where T : IComparable<T>
    {
        var counts = new Dictionary<T, int>();
        foreach (var v in values) counts[v] = counts.TryGetValue(v, out int c) ? c + 1 : 1;
        return counts.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).First().Key;
    }

    private static void WriteComponent(JsonWriter w, IEnumerable<LoraModuleSpec> moduleSpecs, bool fileUsesRsLora)
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
        // rsLoRA comes from a component's config: written only where it differs from the file's usesRsLora.
        bool rsLora = modules.Any(m => m.UseRsLora);
        if (rsLora != fileUsesRsLora) w.Name("rsLora").Value(rsLora);
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
        if (id.Subfolder != null) w.Name("subfolder").Value(id.Subfolder);
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

/// <summary>Which manifest entry a sidecar describes (<c>file</c> and <c>subfolder</c> as written) and what it resolved to.</summary>
internal sealed class SidecarIdentity
{
    public SidecarIdentity(string manifestPath, string file, string resolvedPath, string? subfolder = null, string? fileName = null)
    {
        ManifestPath = manifestPath;
        File = file;
        Subfolder = subfolder;
        ResolvedPath = resolvedPath;
        FileName = fileName ?? System.IO.Path.GetFileName(resolvedPath);
    }

    public string ManifestPath { get; }

    public string File { get; }

    /// <summary>The entry's <c>subfolder</c> (a PEFT adapter inside the folder <see cref="File"/>), or null.</summary>
    public string? Subfolder { get; }

    public string ResolvedPath { get; }

    public string FileName { get; }
}

/// <summary>The PEFT side of a sidecar: the two files' sizes and hashes, and what loading the folder keeps and warns about.</summary>
internal sealed class PeftSidecarInfo
{
    public PeftSidecarInfo(long configSize, string configSha256, long weightsSize, string weightsSha256, PeftLoadPlan plan)
    {
        ConfigSize = configSize;
        ConfigSha256 = configSha256;
        WeightsSize = weightsSize;
        WeightsSha256 = weightsSha256;
        Plan = plan;
    }

    public long ConfigSize { get; }

    public string ConfigSha256 { get; }

    public long WeightsSize { get; }

    public string WeightsSha256 { get; }

    public PeftLoadPlan Plan { get; }
}
