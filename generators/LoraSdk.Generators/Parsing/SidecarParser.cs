using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using LoraSdk.Core;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Parsing;

/// <summary>
/// Reads a header sidecar (format version <see cref="FormatVersion"/>, written by the build step's
/// <c>SidecarDocument</c>; docs/generator.md): identity and status (<c>lorasdkSidecar</c>, <c>manifest</c>,
/// <c>file</c>, <c>path</c>, <c>fileName</c>, <c>fileSize</c>, <c>sha256</c>, <c>status</c>, <c>error</c>,
/// <c>baseModel</c>, <c>baseModelError</c>) and, for <c>ok</c>, the file facts (<c>runtimePath</c>, <c>format</c>, <c>triggerWords</c>,
/// <c>declaredArchitecture</c>, <c>impliedArchitecture</c>, <c>usesRsLora</c>, <c>unmapped</c>,
/// <c>unsupported</c>, <c>invalid</c>, <c>compatibility</c>, <c>peft</c>) and <c>components</c>:
/// <c>{rank, alpha, modules, ranks?, alphas?, conv2d?, variants?}</c> per component. Version 5 adds PEFT adapter
/// folders: <c>subfolder</c>, <c>errorAt</c>, <c>peft</c> and the status <c>refused</c>.
/// </summary>
internal static class SidecarParser
{
    public const string FileSuffix = ".lorasdk.json";

    /// <summary>The sidecar format this generator reads (<c>lorasdkSidecar</c>).</summary>
    public const int FormatVersion = 5;

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
        string? subfolder = String(root, "subfolder");
        if (root.Kind != JsonValueKind.Object || String(root, "status") is not string status)
            return Unreadable(sidecarPath, manifest, file, $"the header sidecar '{sidecarPath}' has no \"status\"", subfolder);
        if (!(root["lorasdkSidecar"] is { Kind: JsonValueKind.Number } version && version.TryGetInt64(out long v) && v == FormatVersion))
        {
            string found = root["lorasdkSidecar"] is { Kind: JsonValueKind.Number } n ? n.NumberText : "none";
            return Unreadable(sidecarPath, manifest, file,
                $"the header sidecar '{sidecarPath}' has format version {found}, this generator reads version {FormatVersion.ToString(CultureInfo.InvariantCulture)} " +
                "(the LoraSdk build task and generator come from different versions; rebuild with matching LoraSdk.Generators)", subfolder);
        }
        try
        {
            bool rsLora = root["usesRsLora"] is { Kind: JsonValueKind.True };
            var components = new List<ComponentSpec>();
            if (root["components"] is { Kind: JsonValueKind.Object } componentsNode)
            {
                foreach (var component in componentsNode.Properties)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    components.Add(Component(component.Key, component.Value, rsLora));
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
            PeftSourceSpec? peft = null;
            if (root["peft"] is { Kind: JsonValueKind.Object } peftNode)
            {
                var config = Member(peftNode, "config", "peft");
                var weights = Member(peftNode, "weights", "peft");
                peft = new PeftSourceSpec(Member(config, "size", "peft.config").AsInt64(), String(config, "sha256") ?? "",
                    Member(weights, "size", "peft.weights").AsInt64(), String(weights, "sha256") ?? "", Strings(peftNode["warnings"]));
            }
            string? runtimePath = String(root, "runtimePath");
            if (status == SidecarSpec.StatusOk && string.IsNullOrEmpty(runtimePath))
                throw new InvalidOperationException("an \"ok\" sidecar has no \"runtimePath\"");
            return new SidecarSpec(
                sidecarPath, manifest, file, String(root, "path"), String(root, "fileName") ?? FileNameOf(file), runtimePath ?? "",
                root["fileSize"] is { Kind: JsonValueKind.Number } size ? size.AsInt64() : 0,
                String(root, "sha256") ?? "", status, String(root, "error"), String(root, "format") ?? "unknown",
                components.ToEquatableArray(), components.Select(c => Binding.ComponentFacts.Of(c, c.UsesRsLora)).ToEquatableArray(),
                Strings(root["unmapped"]), unsupported.ToEquatableArray(),
                Strings(root["triggerWords"]),
                String(root, "declaredArchitecture"),
                String(root, "impliedArchitecture"),
                rsLora,
                compatibility.ToEquatableArray(), invalid.ToEquatableArray(), String(root, "baseModelError"),
                subfolder, String(root, "errorAt") == "subfolder", peft);
        }
        catch (Exception e) when (e is InvalidOperationException || e is FormatException || e is OverflowException)
        {
            return Unreadable(sidecarPath, manifest, file, $"the header sidecar '{sidecarPath}' does not follow the sidecar format {FormatVersion.ToString(CultureInfo.InvariantCulture)} ({e.Message})", subfolder);
        }
    }

    /// <summary>The file name part of a manifest path (either separator).</summary>
    public static string FileNameOf(string path)
    {
        int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return slash < 0 ? path : path.Substring(slash + 1);
    }

    /// <summary>
    /// <c>{rank, alpha, modules, ranks?, alphas?, conv2d?, variants?, rsLora?}</c>; the exception lists must name listed
    /// modules; without <c>rsLora</c> the component has the file's <paramref name="fileRsLora"/>.
    /// </summary>
    private static ComponentSpec Component(string name, JsonValue node, bool fileRsLora)
    {
        if (node.Kind != JsonValueKind.Object) throw new InvalidOperationException($"component '{name}' is not an object");
        int rank = checked((int)Required(node, "rank", name).AsInt64());
        double alpha = Required(node, "alpha", name).AsDouble();
        var modulesNode = Required(node, "modules", name);
        if (modulesNode.Kind != JsonValueKind.Array) throw new InvalidOperationException($"component '{name}': \"modules\" is not an array");
        var items = modulesNode.Items;
        var paths = new string[items.Count];
        bool sorted = true;
        for (int i = 0; i < paths.Length; i++)
        {
            paths[i] = items[i].AsString();
            if (i > 0 && string.CompareOrdinal(paths[i - 1], paths[i]) >= 0) sorted = false;
        }
        if (!sorted) Array.Sort(paths, StringComparer.Ordinal);
        HashSet<string>? known = null;
        string Known(string path)
        {
            known ??= new HashSet<string>(paths, StringComparer.Ordinal);
            return known.Contains(path) ? path : throw new InvalidOperationException($"component '{name}' lists '{path}', which is not one of its modules");
        }
        var ranks = new List<RankEntry>();
        if (node["ranks"] is { Kind: JsonValueKind.Object } ranksNode)
        {
            foreach (var p in ranksNode.Properties) ranks.Add(new RankEntry(Known(p.Key), checked((int)p.Value.AsInt64())));
            ranks.Sort((a, b) => string.CompareOrdinal(a.Module, b.Module));
        }
        var alphas = new List<AlphaEntry>();
        if (node["alphas"] is { Kind: JsonValueKind.Object } alphasNode)
        {
            foreach (var p in alphasNode.Properties) alphas.Add(new AlphaEntry(Known(p.Key), p.Value.AsDouble()));
            alphas.Sort((a, b) => string.CompareOrdinal(a.Module, b.Module));
        }
        var conv = new List<string>();
        if (node["conv2d"] is { Kind: JsonValueKind.Array } convNode)
        {
            foreach (var item in convNode.Items) conv.Add(Known(item.AsString()));
            conv.Sort(StringComparer.Ordinal);
        }
        var variants = new List<string>();
        if (node["variants"] is { Kind: JsonValueKind.Array } variantsNode)
        {
            foreach (var item in variantsNode.Items) variants.Add(item.AsString());
            variants.Sort(StringComparer.Ordinal);
        }
        if (variants.Count == 0) variants.Add(LoraVariants.Lora);
        bool rsLora = node["rsLora"] is { Kind: JsonValueKind.True or JsonValueKind.False } flag ? flag.Kind == JsonValueKind.True : fileRsLora;
        return new ComponentSpec(name, rank, alpha, new EquatableArray<string>(System.Collections.Immutable.ImmutableArray.Create(paths)),
            ranks.ToEquatableArray(), alphas.ToEquatableArray(), conv.ToEquatableArray(), variants.ToEquatableArray(), rsLora);
    }

    private static SidecarSpec Unreadable(string sidecarPath, string manifest, string file, string error, string? subfolder = null) =>
        new SidecarSpec(sidecarPath, manifest, file, null, FileNameOf(file), "", 0, "", SidecarSpec.StatusUnreadable, error, "unknown",
            EquatableArray<ComponentSpec>.Empty, EquatableArray<ComponentEmitSpec>.Empty, EquatableArray<string>.Empty, EquatableArray<UnsupportedSpec>.Empty,
            EquatableArray<string>.Empty, null, null, false, EquatableArray<CompatibilityIssueSpec>.Empty,
            EquatableArray<InvalidModuleSpec>.Empty, null, subfolder);

    private static JsonValue Required(JsonValue node, string property, string component) =>
        node.Kind == JsonValueKind.Object && node.TryGetProperty(property, out var v)
            ? v
            : throw new InvalidOperationException($"component '{component}' has no \"{property}\"");

    private static JsonValue Member(JsonValue node, string property, string where) =>
        node.Kind == JsonValueKind.Object && node.TryGetProperty(property, out var v)
            ? v
            : throw new InvalidOperationException($"\"{where}\" has no \"{property}\"");

    private static string? String(JsonValue node, string property) =>
        node.Kind == JsonValueKind.Object && node.TryGetProperty(property, out var v) && v.Kind == JsonValueKind.String ? v.AsString() : null;

    private static EquatableArray<string> Strings(JsonValue? node) =>
        node is { Kind: JsonValueKind.Array }
            ? node.Items.Where(i => i.Kind == JsonValueKind.String).Select(i => i.AsString()).ToEquatableArray()
            : EquatableArray<string>.Empty;
}
