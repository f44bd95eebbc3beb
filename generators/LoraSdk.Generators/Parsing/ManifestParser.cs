using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using LoraSdk.Core;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Parsing;

/// <summary>
/// Reads <c>adapters.manifest</c> (strict JSON, parsed by the formats core) and checks it against the schema
/// (<c>adapters.manifest.schema.json</c>); every violation is an LSDK001 at the offending value.
/// </summary>
internal static class ManifestParser
{
    public const string DefaultCatalog = "Adapters";

    public static readonly string[] RootProperties = { "$schema", "namespace", "catalog", "baseModel", "adapters", "hotswapGroups", "merges" };
    public static readonly string[] BaseModelProperties = { "name", "unetConfig", "transformerConfig", "textEncoderConfig", "textEncoder2Config", "architecture" };
    public static readonly string[] AdapterProperties = { "name", "file", "subfolder", "prefix", "triggerWords", "triggerWordsMode", "defaultWeight" };
    public static readonly string[] GroupProperties = { "name", "members", "targetRank" };
    public static readonly string[] MergeProperties =
    {
        "name", "adapters", "weights", "combinationType", "density", "svdRank", "svdClamp", "svdFullMatrices", "majoritySignMethod", "seed",
    };

    /// <summary>Built-in base models: manifest name → marker type in LoraSdk.Typed.</summary>
    public static readonly IReadOnlyDictionary<string, string> BuiltInBaseModels = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sdxl"] = "Sdxl",
        ["sd15"] = "Sd15",
        ["sd2"] = "Sd2",
        ["flux"] = "Flux",
    };

    public static readonly string[] Prefixes = System.Linq.Enumerable.ToArray(LoraComponents.All);
    public static readonly string[] TriggerWordsModes = { "extend", "replace" };
    public static readonly string[] MajoritySignMethods =
        System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(new[] { Core.MajoritySignMethod.Total, Core.MajoritySignMethod.Frequency }, Core.MajoritySignMethods.PeftName));
    public static readonly string[] CombinationTypes =
        System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(Core.CombinationTypes.All, Core.CombinationTypes.PeftName));

    public static ManifestSpec Parse(string path, string text, CancellationToken cancellationToken = default)
    {
        var reader = new Reader(new ManifestText(path, text));
        return reader.Read(cancellationToken);
    }

    private sealed class Reader
    {
        private readonly ManifestText _text;
        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();

        public Reader(ManifestText text) => _text = text;

        public ManifestSpec Read(CancellationToken cancellationToken)
        {
            JsonValue root;
            try
            {
                root = JsonValue.Parse(_text.Text);
            }
            catch (JsonParseException e)
            {
                Report(_text.At(e.Offset, e.Offset < _text.Text.Length ? 1 : 0), $"invalid JSON: {e.Reason}");
                return Fatal();
            }
            if (root.Kind != JsonValueKind.Object)
            {
                Report(root, $"the manifest must be a JSON object, not {Describe(root)}");
                return Fatal();
            }
            CheckProperties(root, RootProperties, "the manifest");
            var ns = RequiredString(root, "namespace", "the manifest");
            var catalog = OptionalString(root, "catalog", "the manifest") ?? new Located<string>(DefaultCatalog, ns?.Location ?? _text.Of(root));
            var baseModel = ReadBaseModel(root);
            var adapters = new List<AdapterEntrySpec>();
            var adaptersNode = RequiredKind(root, "adapters", JsonValueKind.Array, "the manifest");
            if (adaptersNode != null)
            {
                for (int i = 0; i < adaptersNode.Items.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var entry = ReadAdapter(adaptersNode.Items[i], $"adapters[{i}]");
                    if (entry != null) adapters.Add(entry);
                }
            }
            var groups = new List<HotswapGroupEntrySpec>();
            var groupsNode = OptionalKind(root, "hotswapGroups", JsonValueKind.Array, "the manifest");
            if (groupsNode != null)
            {
                for (int i = 0; i < groupsNode.Items.Count; i++)
                {
                    var entry = ReadGroup(groupsNode.Items[i], $"hotswapGroups[{i}]");
                    if (entry != null) groups.Add(entry);
                }
            }
            var merges = new List<MergeEntrySpec>();
            var mergesNode = OptionalKind(root, "merges", JsonValueKind.Array, "the manifest");
            if (mergesNode != null)
            {
                for (int i = 0; i < mergesNode.Items.Count; i++)
                {
                    var entry = ReadMerge(mergesNode.Items[i], $"merges[{i}]");
                    if (entry != null) merges.Add(entry);
                }
            }
            bool fatal = ns == null || baseModel == null || adaptersNode == null;
            return new ManifestSpec(_text.Path, ns, catalog, baseModel, adapters.ToEquatableArray(), groups.ToEquatableArray(),
                merges.ToEquatableArray(), _diagnostics.ToEquatableArray(), fatal,
                groupsNode != null ? _text.Of(groupsNode) : null, mergesNode != null ? _text.Of(mergesNode) : null);
        }

        private ManifestSpec Fatal() =>
            new ManifestSpec(_text.Path, null, new Located<string>(DefaultCatalog, _text.At(0, 0)), null,
                EquatableArray<AdapterEntrySpec>.Empty, EquatableArray<HotswapGroupEntrySpec>.Empty,
                EquatableArray<MergeEntrySpec>.Empty, _diagnostics.ToEquatableArray(), true);

        private BaseModelSpec? ReadBaseModel(JsonValue root)
        {
            if (!root.TryGetProperty("baseModel", out var node))
            {
                Report(root, "the manifest has no \"baseModel\" (\"sdxl\", \"sd15\", \"sd2\", \"flux\" or an object with \"name\" and \"unetConfig\" or \"transformerConfig\")");
                return null;
            }
            if (node.Kind == JsonValueKind.String)
            {
                string name = node.AsString();
                if (BuiltInBaseModels.TryGetValue(name, out var marker))
                    return new BaseModelSpec(marker, true, name, null, _text.Of(node), _text.Of(node));
                Report(node, $"\"baseModel\" must be one of {List(BuiltInBaseModels.Keys)} or an object, not \"{name}\"");
                return null;
            }
            if (node.Kind != JsonValueKind.Object)
            {
                Report(node, $"\"baseModel\" must be a string or an object, not {Describe(node)}");
                return null;
            }
            CheckProperties(node, BaseModelProperties, "baseModel");
            var typeName = RequiredString(node, "name", "baseModel");
            var config = OptionalString(node, "unetConfig", "baseModel");
            var transformerConfig = OptionalString(node, "transformerConfig", "baseModel");
            OptionalString(node, "textEncoderConfig", "baseModel");
            OptionalString(node, "textEncoder2Config", "baseModel");
            var architecture = OptionalString(node, "architecture", "baseModel");
            if (config != null && transformerConfig != null)
                Report(node, "baseModel has both \"unetConfig\" and \"transformerConfig\"; a base model has one denoiser (a UNet or a Flux transformer)");
            if (typeName == null) return null;
            // A transformerConfig is a FLUX transformer: adapters are checked against the flux architecture unless another is named.
            string? arch = architecture?.Value ?? (transformerConfig != null ? LoraArchitectures.Flux : null);
            return new BaseModelSpec(typeName.Value, false, arch, config?.Value, _text.Of(node), typeName.Location, transformerConfig?.Value);
        }

        private AdapterEntrySpec? ReadAdapter(JsonValue node, string where)
        {
            if (!ExpectKind(node, JsonValueKind.Object, where)) return null;
            CheckProperties(node, AdapterProperties, where);
            var name = RequiredString(node, "name", where);
            var file = RequiredString(node, "file", where);
            var subfolder = OptionalString(node, "subfolder", where);
            if (subfolder != null && !IsRelativeFolder(subfolder.Value))
            {
                // Kept in the entry (its sidecar is keyed by it); the binder reports nothing more for it.
                Report(subfolder.Location, $"{where}.subfolder must name a folder inside \"file\" (a non-empty relative path without '..'), not \"{subfolder.Value}\"");
            }
            var prefix = OptionalEnum(node, "prefix", where, Prefixes);
            Located<EquatableArray<string>>? triggerWords = null;
            var triggerNode = OptionalKind(node, "triggerWords", JsonValueKind.Array, where);
            if (triggerNode != null)
            {
                var words = new List<string>();
                for (int i = 0; i < triggerNode.Items.Count; i++)
                {
                    var item = triggerNode.Items[i];
                    if (ExpectKind(item, JsonValueKind.String, $"{where}.triggerWords[{i}]")) words.Add(item.AsString());
                }
                triggerWords = new Located<EquatableArray<string>>(words.ToEquatableArray(), _text.Of(triggerNode));
            }
            var mode = OptionalEnum(node, "triggerWordsMode", where, TriggerWordsModes);
            double weight = OptionalNumber(node, "defaultWeight", where)?.Value ?? 1.0;
            if (name == null || file == null) return null;
            return new AdapterEntrySpec(name, file, prefix, triggerWords, mode?.Value == "replace", weight, _text.Of(node), subfolder);
        }

        private HotswapGroupEntrySpec? ReadGroup(JsonValue node, string where)
        {
            if (!ExpectKind(node, JsonValueKind.Object, where)) return null;
            CheckProperties(node, GroupProperties, where);
            var name = RequiredString(node, "name", where);
            var members = ReadNameList(node, "members", where, out _);
            int? targetRank = null;
            var rankLocation = _text.Of(node);
            if (node.TryGetProperty("targetRank", out var rankNode))
            {
                rankLocation = _text.Of(rankNode);
                if (rankNode.Kind == JsonValueKind.String && rankNode.AsString() == "max")
                {
                    targetRank = null;
                }
                else if (rankNode.TryGetInt64(out long r) && r >= 1 && r <= int.MaxValue)
                {
                    targetRank = (int)r;
                }
                else
                {
                    Report(rankNode, $"{where}.targetRank must be a positive integer or \"max\", not {Describe(rankNode)}");
                    return null;
                }
            }
            if (name == null || members == null) return null;
            return new HotswapGroupEntrySpec(name, members.Value, targetRank, rankLocation, _text.Of(node));
        }

        private MergeEntrySpec? ReadMerge(JsonValue node, string where)
        {
            if (!ExpectKind(node, JsonValueKind.Object, where)) return null;
            CheckProperties(node, MergeProperties, where);
            var name = RequiredString(node, "name", where);
            var adapters = ReadNameList(node, "adapters", where, out var adaptersLocation);
            var weights = new List<double>();
            var weightsNode = RequiredKind(node, "weights", JsonValueKind.Array, where);
            bool weightsOk = weightsNode != null;
            if (weightsNode != null)
            {
                for (int i = 0; i < weightsNode.Items.Count; i++)
                {
                    var item = weightsNode.Items[i];
                    if (item.Kind == JsonValueKind.Number) weights.Add(item.AsDouble());
                    else { Report(item, $"{where}.weights[{i}] must be a number, not {Describe(item)}"); weightsOk = false; }
                }
            }
            var combination = OptionalEnum(node, "combinationType", where, CombinationTypes)
                ?? new Located<string>(Core.CombinationTypes.PeftName(CombinationType.Svd), _text.Of(node));
            var density = OptionalNumber(node, "density", where);
            int? svdRank = null;
            if (node.TryGetProperty("svdRank", out var svdRankNode))
            {
                if (svdRankNode.TryGetInt64(out long r) && r >= 1 && r <= int.MaxValue) svdRank = (int)r;
                else { Report(svdRankNode, $"{where}.svdRank must be a positive integer, not {Describe(svdRankNode)}"); return null; }
            }
            var svdClamp = OptionalNumber(node, "svdClamp", where);
            bool fullMatrices = true;
            if (node.TryGetProperty("svdFullMatrices", out var fullNode))
            {
                if (fullNode.Kind == JsonValueKind.True || fullNode.Kind == JsonValueKind.False) fullMatrices = fullNode.AsBool();
                else Report(fullNode, $"{where}.svdFullMatrices must be true or false, not {Describe(fullNode)}");
            }
            var sign = OptionalEnum(node, "majoritySignMethod", where, MajoritySignMethods);
            long? seed = null;
            if (node.TryGetProperty("seed", out var seedNode))
            {
                if (seedNode.TryGetInt64(out long s)) seed = s;
                else Report(seedNode, $"{where}.seed must be an integer, not {Describe(seedNode)}");
            }
            if (name == null || adapters == null || !weightsOk) return null;
            return new MergeEntrySpec(name, adapters.Value, adaptersLocation!, weights.ToEquatableArray(), _text.Of(weightsNode!),
                combination, density, svdRank, svdClamp?.Value, fullMatrices, sign?.Value ?? Core.MajoritySignMethods.PeftName(MajoritySignMethod.Total), seed, _text.Of(node));
        }

        private EquatableArray<Located<string>>? ReadNameList(JsonValue node, string property, string where, out LocationInfo? location)
        {
            location = null;
            var list = RequiredKind(node, property, JsonValueKind.Array, where);
            if (list == null) return null;
            location = _text.Of(list);
            if (list.Items.Count == 0)
            {
                Report(list, $"{where}.{property} must name at least one adapter");
                return null;
            }
            var names = new List<Located<string>>();
            for (int i = 0; i < list.Items.Count; i++)
            {
                var item = list.Items[i];
                if (ExpectKind(item, JsonValueKind.String, $"{where}.{property}[{i}]")) names.Add(new Located<string>(item.AsString(), _text.Of(item)));
                else return null;
            }
            return names.ToEquatableArray();
        }

        private void CheckProperties(JsonValue node, string[] allowed, string where)
        {
            foreach (var property in node.Properties)
            {
                if (Array.IndexOf(allowed, property.Key) < 0)
                    Report(property.Value, $"{where} has an unknown property \"{property.Key}\" (allowed: {List(allowed)})");
            }
        }

        private Located<string>? RequiredString(JsonValue node, string property, string where)
        {
            if (!node.TryGetProperty(property, out var value))
            {
                Report(node, $"{where} has no \"{property}\"");
                return null;
            }
            if (!ExpectKind(value, JsonValueKind.String, $"{where}.{property}")) return null;
            return new Located<string>(value.AsString(), _text.Of(value));
        }

        private Located<string>? OptionalString(JsonValue node, string property, string where)
        {
            if (!node.TryGetProperty(property, out var value)) return null;
            if (!ExpectKind(value, JsonValueKind.String, $"{where}.{property}")) return null;
            return new Located<string>(value.AsString(), _text.Of(value));
        }

        private Located<string>? OptionalEnum(JsonValue node, string property, string where, string[] allowed)
        {
            var value = OptionalString(node, property, where);
            if (value == null || Array.IndexOf(allowed, value.Value) >= 0) return value;
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ManifestInvalid, value.Location,
                $"{where}.{property} must be one of {List(allowed)}, not \"{value.Value}\""));
            return null;
        }

        private Located<double>? OptionalNumber(JsonValue node, string property, string where)
        {
            if (!node.TryGetProperty(property, out var value)) return null;
            if (!ExpectKind(value, JsonValueKind.Number, $"{where}.{property}")) return null;
            double number = value.AsDouble();
            if (double.IsNaN(number) || double.IsInfinity(number))
            {
                Report(value, $"{where}.{property} must be a finite number");
                return null;
            }
            return new Located<double>(number, _text.Of(value));
        }

        private JsonValue? RequiredKind(JsonValue node, string property, JsonValueKind kind, string where)
        {
            if (!node.TryGetProperty(property, out var value))
            {
                Report(node, $"{where} has no \"{property}\"");
                return null;
            }
            return ExpectKind(value, kind, $"{where}.{property}") ? value : null;
        }

        private JsonValue? OptionalKind(JsonValue node, string property, JsonValueKind kind, string where)
        {
            if (!node.TryGetProperty(property, out var value)) return null;
            return ExpectKind(value, kind, $"{where}.{property}") ? value : null;
        }

        private bool ExpectKind(JsonValue value, JsonValueKind kind, string what)
        {
            if (value.Kind == kind) return true;
            Report(value, $"{what} must be {Article(kind)}, not {Describe(value)}");
            return false;
        }

        private void Report(JsonValue at, string message) => Report(_text.Of(at), message);

        private void Report(LocationInfo location, string message) =>
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ManifestInvalid, location, message));
    }

    /// <summary>
    /// What PEFT's <c>from_pretrained(path, subfolder=…)</c> accepts (the runtime refuses the rest): a non-empty relative
    /// path (not rooted, no drive) without a <c>..</c> segment.
    /// </summary>
    internal static bool IsRelativeFolder(string subfolder)
    {
        if (subfolder.Length == 0 || subfolder[0] == '/' || subfolder[0] == '\\' || (subfolder.Length > 1 && subfolder[1] == ':')) return false;
        foreach (var part in subfolder.Split('/', '\\'))
        {
            if (part == "..") return false;
        }
        return true;
    }

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    private static string Describe(JsonValue value) => value.Kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "the string \"" + value.AsString() + "\"",
        JsonValueKind.Number => "the number " + value.NumberText,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string List(IEnumerable<string> names) => string.Join(", ", names.Select(n => "\"" + n + "\""));
}
