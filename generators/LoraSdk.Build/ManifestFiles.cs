using System;
using System.Collections.Generic;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// The part of <c>adapters.manifest</c> the build step needs: the base model (for the layouts files are read and
/// checked against) and the distinct adapter <c>file</c> strings. Everything else, including every schema error, is
/// the generator's business (LSDK001): this reader ignores what it does not understand.
/// </summary>
internal sealed class ManifestFiles
{
    private ManifestFiles(JsonValue? baseModel, IReadOnlyList<string> files)
    {
        BaseModel = baseModel;
        Files = files;
    }

    /// <summary>The <c>baseModel</c> value (string or object), or null.</summary>
    public JsonValue? BaseModel { get; }

    /// <summary>Distinct <c>adapters[].file</c> strings in manifest order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Reads the manifest text; null when it is not a JSON object (the generator reports LSDK001).</summary>
    public static ManifestFiles? TryRead(string text)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text);
        }
        catch (JsonParseException)
        {
            return null;
        }
        if (root.Kind != JsonValueKind.Object) return null;
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (root["adapters"] is { Kind: JsonValueKind.Array } adapters)
        {
            foreach (var adapter in adapters.Items)
            {
                if (adapter["file"] is { Kind: JsonValueKind.String } file && file.AsString().Length > 0 && seen.Add(file.AsString()))
                    files.Add(file.AsString());
            }
        }
        return new ManifestFiles(root["baseModel"], files);
    }
}
