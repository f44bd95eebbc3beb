using System;
using System.Globalization;
using System.IO;

namespace LoraSdk.Build;

/// <summary>
/// What the build step last saw of an adapter file (size, last-write time, SHA-256) and with which layouts it read
/// it; stored beside the sidecar (<c>*.stamp</c>, not a compiler input). Size + time unchanged ⇒ the hash is
/// reused; and with the same layouts key and an existing sidecar ⇒ the header is not read again.
/// </summary>
internal sealed class FileStamp
{
    private const string Version = "lorasdk-stamp-1";

    public FileStamp(long size, long lastWriteTicks, string sha256, string layoutsKey)
    {
        Size = size;
        LastWriteTicks = lastWriteTicks;
        Sha256 = sha256;
        LayoutsKey = layoutsKey;
    }

    public long Size { get; }

    public long LastWriteTicks { get; }

    public string Sha256 { get; }

    public string LayoutsKey { get; }

    public bool SameFile(long size, long lastWriteTicks) => Size == size && LastWriteTicks == lastWriteTicks;

    public static FileStamp? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllText(path).Split('\n');
            if (lines.Length < 5 || lines[0] != Version) return null;
            return new FileStamp(long.Parse(lines[1], CultureInfo.InvariantCulture), long.Parse(lines[2], CultureInfo.InvariantCulture),
                lines[3], lines[4]);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException || e is OverflowException)
        {
            return null;
        }
    }

    public string Serialize() =>
        string.Join("\n", Version, Size.ToString(CultureInfo.InvariantCulture), LastWriteTicks.ToString(CultureInfo.InvariantCulture), Sha256, LayoutsKey);
}
