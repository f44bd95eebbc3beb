using System;
using System.Collections.Generic;
using LoraSdk.Formats;

namespace LoraSdk.Build;

/// <summary>
/// Builds the text of one header sidecar: the <c>lorasdk inspect --json</c> document
/// (<see cref="LoraInspectJson.WriteTo"/>) with the build step's members after <c>"version"</c>:
/// <c>lorasdkSidecar</c> (format version), <c>manifest</c>, <c>file</c> (as written in the manifest), <c>path</c>,
/// <c>fileName</c>, <c>fileSize</c>, <c>sha256</c>, <c>status</c> (<c>ok</c>/<c>missing</c>/<c>invalid</c>),
/// <c>error</c>, <c>baseModel</c>, <c>baseModelError</c> and <c>compatibility</c> (modules that do not fit the base
/// model, <c>kind</c> <c>missing</c> = no such layer, <c>mismatch</c> = kind or shape differs).
/// </summary>
internal static class SidecarDocument
{
    public const int FormatVersion = 1;

    public static string Ok(SidecarIdentity id, long fileSize, string sha256, LoraFileModel model, BaseModelLayouts layouts)
    {
        var w = new JsonWriter(indented: false);
        LoraInspectJson.WriteTo(w, model, extra =>
        {
            Identity(extra, id, fileSize, sha256, "ok", null, layouts);
            extra.Name("compatibility").StartArray();
            foreach (var issue in Compatibility(model, layouts))
            {
                extra.StartObject();
                extra.Name("component").Value(issue.Component);
                extra.Name("module").Value(issue.Module);
                extra.Name("reason").Value(issue.Reason);
                extra.Name("kind").Value(issue.Missing ? "missing" : "mismatch");
                extra.EndObject();
            }
            extra.EndArray();
        });
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

    private static IEnumerable<(string Component, string Module, string Reason, bool Missing)> Compatibility(LoraFileModel model, BaseModelLayouts layouts)
    {
        foreach (var issue in model.CheckCompatibility(layouts.Unet, layouts.TextEncoder, layouts.TextEncoder2))
        {
            bool missing = issue.Component == LoraComponents.Unet
                ? layouts.Unet != null && !layouts.Unet.TryGetModule(issue.ModulePath, out _)
                : LayoutOf(issue.Component, layouts) is { } te && !te.TryGetModule(issue.ModulePath, out _);
            yield return (issue.Component, issue.ModulePath, issue.Reason, missing);
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
