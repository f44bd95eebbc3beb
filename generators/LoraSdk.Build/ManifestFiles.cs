using System;
using System.Collections.Generic;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// The part of <c>adapters.manifest</c> the build step needs: the base model (for the layouts files are read and
/// checked against) and the distinct adapter sources (<c>file</c> and <c>subfolder</c> strings). Everything else, including every schema error, is
/// the generator's business (LSDK001): this reader ignores what it does not understand.
/// </summary>
internal sealed class ManifestFiles
{
    private ManifestFiles(JsonValue? baseModel, IReadOnlyList<(string File, string? Subfolder)> files)
    {
        BaseModel = baseModel;
        Files = files;
    }

    /// <summary>The <c>baseModel</c> value (string or object), or null.</summary>
    public JsonValue? BaseModel { get; }

    /// <summary>
    /// Distinct <c>adapters[].file</c> strings with their <c>subfolder</c> (null when absent or not a non-empty string;
    /// a PEFT folder's adapters in subfolders are distinct sources), in manifest order.
    /// </summary>
    public IReadOnlyList<(string File, string? Subfolder)> Files { get; }

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
        var files = new List<(string, string?)>();
        var seen = new HashSet<(string, string?)>();
        if (root["adapters"] is { Kind: JsonValueKind.Array } adapters)
        {
            foreach (var adapter in adapters.Items)
            {
                if (adapter.Kind != JsonValueKind.Object || adapter["file"] is not { Kind: JsonValueKind.String } file || file.AsString().Length == 0) continue;
                string? subfolder = adapter["subfolder"] is { Kind: JsonValueKind.String } s && s.AsString().Length > 0 ? s.AsString() : null;
                if (seen.Add((file.AsString(), subfolder))) files.Add((file.AsString(), subfolder));
            }
        }
        return new ManifestFiles(root["baseModel"], files);
    }
}
