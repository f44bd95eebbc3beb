using System;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LoraSdk.Generators;

/// <summary>What an AdditionalFiles item is to the generator.</summary>
internal enum InputRole
{
    None,
    Manifest,
    Sidecar,
}

internal static class InputRoles
{
    /// <summary>The item metadata the build targets set (<c>CompilerVisibleItemMetadata</c> of AdditionalFiles).</summary>
    public const string MetadataKey = "build_metadata.AdditionalFiles.LoraSdkRole";

    /// <summary>
    /// The role from the <c>LoraSdkRole</c> metadata (<c>Manifest</c>/<c>Sidecar</c>), else by name:
    /// <c>adapters.manifest</c> is a manifest, <c>*.lorasdk.json</c> a sidecar.
    /// </summary>
    public static InputRole Classify(string path, AnalyzerConfigOptions options)
    {
        if (options.TryGetValue(MetadataKey, out var role) && !string.IsNullOrEmpty(role))
        {
            if (string.Equals(role, "Manifest", StringComparison.OrdinalIgnoreCase)) return InputRole.Manifest;
            if (string.Equals(role, "Sidecar", StringComparison.OrdinalIgnoreCase)) return InputRole.Sidecar;
            return InputRole.None;
        }
        if (path.EndsWith(Parsing.SidecarParser.FileSuffix, StringComparison.OrdinalIgnoreCase)) return InputRole.Sidecar;
        string name = Parsing.SidecarParser.FileNameOf(path);
        return string.Equals(name, "adapters.manifest", StringComparison.OrdinalIgnoreCase) ? InputRole.Manifest : InputRole.None;
    }
}

/// <summary>An AdditionalFiles item's path, role and text: value-equal, so re-adding an identical file changes nothing downstream.</summary>
internal sealed record InputFile(string Path, InputRole Role, string Text);
