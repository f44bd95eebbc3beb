using System;
using System.Globalization;
using System.IO;

namespace LoraSdk.Build;

/// <summary>
/// What the build step last saw of an adapter file (size, last-write and creation time, SHA-256, whether its header was
/// valid) and with which layouts it read it; stored beside the sidecar (<c>*.stamp</c>, not a compiler input). Size and
/// both times unchanged ⇒ the hash is reused (any replacement of the file, also by an older-dated one, changes at least
/// one of them); and with the same layouts key and an existing sidecar ⇒ the header is not read again.
/// </summary>
internal sealed class FileStamp
{
    private const string Version = "lorasdk-stamp-2";

    public FileStamp(long size, long lastWriteTicks, long creationTicks, string sha256, string layoutsKey, bool ok)
    {
        Size = size;
        LastWriteTicks = lastWriteTicks;
        CreationTicks = creationTicks;
        Sha256 = sha256;
        LayoutsKey = layoutsKey;
        Ok = ok;
    }

    public long Size { get; }

    public long LastWriteTicks { get; }

    public long CreationTicks { get; }

    public string Sha256 { get; }

    public string LayoutsKey { get; }

    /// <summary>The header was valid (the sidecar's status is <c>ok</c>).</summary>
    public bool Ok { get; }

    public bool SameFile(long size, long lastWriteTicks, long creationTicks) =>
        Size == size && LastWriteTicks == lastWriteTicks && CreationTicks == creationTicks;

    public static FileStamp? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllText(path).Split('\n');
            if (lines.Length < 7 || lines[0] != Version) return null;
            return new FileStamp(long.Parse(lines[1], CultureInfo.InvariantCulture), long.Parse(lines[2], CultureInfo.InvariantCulture),
                long.Parse(lines[3], CultureInfo.InvariantCulture), lines[4], lines[6], lines[5] == "ok");
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException || e is OverflowException)
        {
            return null;
        }
    }

    /// <summary>One value per line; the layouts key last (it is the only free text).</summary>
    public string Serialize() =>
        string.Join("\n", Version, Size.ToString(CultureInfo.InvariantCulture), LastWriteTicks.ToString(CultureInfo.InvariantCulture),
            CreationTicks.ToString(CultureInfo.InvariantCulture), Sha256, Ok ? "ok" : "invalid", LayoutsKey);
}
