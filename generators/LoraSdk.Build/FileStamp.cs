using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace LoraSdk.Build;

/// <summary>
/// What the build step last saw of an adapter (for each of its files — one, or a PEFT folder's config and weights — the
/// path, size, last-write and creation time, summed up in <see cref="SourceKey"/>; the SHA-256; whether it was usable)
/// and with which layouts it read it; stored beside the sidecar (<c>*.stamp</c>, not a compiler input). The same source
/// key ⇒ the hash is reused (any replacement of a file, also by an older-dated one, changes at least one of its
/// values); and with the same layouts key and an existing sidecar ⇒ nothing is read again.
/// </summary>
internal sealed class FileStamp
{
    private const string Version = "lorasdk-stamp-3";

    public FileStamp(string sourceKey, string sha256, string layoutsKey, bool ok, IReadOnlyList<string>? fileHashes = null)
    {
        SourceKey = sourceKey;
        Sha256 = sha256;
        LayoutsKey = layoutsKey;
        Ok = ok;
        FileHashes = fileHashes ?? Array.Empty<string>();
    }

    /// <summary>The hash of the files' paths, sizes and times (<see cref="KeyOf"/>).</summary>
    public string SourceKey { get; }

    public string Sha256 { get; }

    /// <summary>A PEFT folder's per-file SHA-256s (config, weights) that <see cref="Sha256"/> was made from; empty for a file.</summary>
    public IReadOnlyList<string> FileHashes { get; }

    public string LayoutsKey { get; }

    /// <summary>The adapter was usable (the sidecar's status is <c>ok</c>): it is copied next to the app.</summary>
    public bool Ok { get; }

    public bool SameSource(string sourceKey) => string.Equals(SourceKey, sourceKey, StringComparison.Ordinal);

    /// <summary>The source key of <paramref name="files"/> (each must exist): path, size, last-write and creation time of each.</summary>
    public static string KeyOf(IEnumerable<string> files)
    {
        var text = new StringBuilder();
        foreach (var path in files)
        {
            var info = new FileInfo(path);
            text.Append(info.FullName).Append('\0')
                .Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append('\0')
                .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\0')
                .Append(info.CreationTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return BaseModelLayouts.Hash(text.ToString());
    }

    public static FileStamp? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllText(path).Split('\n');
            if (lines.Length < 6 || lines[0] != Version) return null;
            var parts = lines[3].Length == 0 ? Array.Empty<string>() : lines[3].Split(' ');
            return new FileStamp(lines[1], lines[2], string.Join("\n", lines, 5, lines.Length - 5), lines[4] == "ok", parts);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>One value per line; the layouts key last (it is the only free text).</summary>
    public string Serialize() => string.Join("\n", Version, SourceKey, Sha256, string.Join(" ", FileHashes), Ok ? "ok" : "invalid", LayoutsKey);
}
