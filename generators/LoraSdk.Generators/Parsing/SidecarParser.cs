using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LoraSdk.Formats;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Parsing;

/// <summary>
/// Reads a header sidecar: the <c>lorasdk inspect --json</c> document (issue 2 contract: <c>format</c>,
/// <c>components.&lt;c&gt;.modules.&lt;path&gt;.{rank,alpha,kind}</c>, <c>unmapped</c>, <c>unsupported</c>,
/// <c>triggerWords</c>, <c>architecture.{declared,implied}</c>, <c>usesRsLora</c>, <c>invalid</c>) plus the build step's
/// <c>lorasdkSidecar</c>, <c>manifest</c>, <c>file</c>, <c>path</c>, <c>fileName</c>, <c>fileSize</c>, <c>sha256</c>,
/// <c>status</c>, <c>error</c>, <c>baseModel</c>, <c>baseModelError</c> and <c>compatibility</c> (modules that do not
/// fit the manifest's base model: <c>{component, module, reason, kind: "missing"|"mismatch"}</c>).
/// </summary>
internal static class SidecarParser
{
    public const string FileSuffix = ".lorasdk.json";

    public static SidecarSpec Parse(string sidecarPath, string text, CancellationToken cancellationToken = default)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text);
        }
        catch (JsonParseException e)
        {
            return Unreadable(sidecarPath, "", "", $"the header sidecar '{sidecarPath}' is not valid JSON ({e.Message})");
        }
        string manifest = String(root, "manifest") ?? "";
        string file = String(root, "file") ?? "";
        if (root.Kind != JsonValueKind.Object || String(root, "status") is not string status)
            return Unreadable(sidecarPath, manifest, file, $"the header sidecar '{sidecarPath}' has no \"status\"");
        try
        {
            var components = new List<ComponentSpec>();
            if (root["components"] is { Kind: JsonValueKind.Object } componentsNode)
            {
                foreach (var component in componentsNode.Properties)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var modules = new List<ModuleSpec>();
                    if (component.Value["modules"] is { Kind: JsonValueKind.Object } modulesNode)
                    {
                        foreach (var module in modulesNode.Properties)
                        {
                            var m = module.Value;
                            modules.Add(new ModuleSpec(module.Key, checked((int)Required(m, "rank", module.Key).AsInt64()),
                                Required(m, "alpha", module.Key).AsDouble(), String(m, "kind") == "conv2d"));
                        }
                    }
                    modules.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
                    components.Add(new ComponentSpec(component.Key, modules.ToEquatableArray()));
                }
            }
            components.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var unsupported = new List<UnsupportedSpec>();
            if (root["unsupported"] is { Kind: JsonValueKind.Array } unsupportedNode)
            {
                foreach (var item in unsupportedNode.Items)
                    unsupported.Add(new UnsupportedSpec(String(item, "variant") ?? "unknown", Strings(item["keys"])));
            }
            var compatibility = new List<CompatibilityIssueSpec>();
            if (root["compatibility"] is { Kind: JsonValueKind.Array } compatibilityNode)
            {
                foreach (var item in compatibilityNode.Items)
                    compatibility.Add(new CompatibilityIssueSpec(String(item, "component") ?? "", String(item, "module") ?? "",
                        String(item, "reason") ?? "", String(item, "kind") == "missing"));
            }
            var invalid = new List<InvalidModuleSpec>();
            if (root["invalid"] is { Kind: JsonValueKind.Array } invalidNode)
            {
                foreach (var item in invalidNode.Items)
                    invalid.Add(new InvalidModuleSpec(String(item, "component") ?? "", String(item, "module") ?? "", String(item, "reason") ?? ""));
            }
            var architecture = root["architecture"];
            return new SidecarSpec(
                sidecarPath, manifest, file, String(root, "path"), String(root, "fileName") ?? FileNameOf(file),
                root["fileSize"] is { Kind: JsonValueKind.Number } size ? size.AsInt64() : 0,
                String(root, "sha256") ?? "", status, String(root, "error"), String(root, "format") ?? "unknown",
                components.ToEquatableArray(), Strings(root["unmapped"]), unsupported.ToEquatableArray(),
                Strings(root["triggerWords"]),
                architecture == null ? null : String(architecture, "declared"),
                architecture == null ? null : String(architecture, "implied"),
                root["usesRsLora"] is { Kind: JsonValueKind.True },
                compatibility.ToEquatableArray(), invalid.ToEquatableArray(), String(root, "baseModelError"));
        }
        catch (Exception e) when (e is InvalidOperationException || e is FormatException || e is OverflowException)
        {
            return Unreadable(sidecarPath, manifest, file, $"the header sidecar '{sidecarPath}' does not follow the inspect --json contract ({e.Message})");
        }
    }

    /// <summary>The file name part of a manifest path (either separator).</summary>
    public static string FileNameOf(string path)
    {
        int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return slash < 0 ? path : path.Substring(slash + 1);
    }

    private static SidecarSpec Unreadable(string sidecarPath, string manifest, string file, string error) =>
        new SidecarSpec(sidecarPath, manifest, file, null, FileNameOf(file), 0, "", SidecarSpec.StatusUnreadable, error, "unknown",
            EquatableArray<ComponentSpec>.Empty, EquatableArray<string>.Empty, EquatableArray<UnsupportedSpec>.Empty,
            EquatableArray<string>.Empty, null, null, false, EquatableArray<CompatibilityIssueSpec>.Empty,
            EquatableArray<InvalidModuleSpec>.Empty, null);

    private static JsonValue Required(JsonValue node, string property, string module) =>
        node.Kind == JsonValueKind.Object && node.TryGetProperty(property, out var v)
            ? v
            : throw new InvalidOperationException($"module '{module}' has no \"{property}\"");

    private static string? String(JsonValue node, string property) =>
        node.Kind == JsonValueKind.Object && node.TryGetProperty(property, out var v) && v.Kind == JsonValueKind.String ? v.AsString() : null;

    private static EquatableArray<string> Strings(JsonValue? node) =>
        node is { Kind: JsonValueKind.Array }
            ? node.Items.Where(i => i.Kind == JsonValueKind.String).Select(i => i.AsString()).ToEquatableArray()
            : EquatableArray<string>.Empty;
}
