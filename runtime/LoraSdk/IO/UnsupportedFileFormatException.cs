using LoraSdk.Core;

namespace LoraSdk.IO;

/// <summary>A file format LoraSdk refuses to read (pickle-based checkpoints such as .bin/.ckpt/.pt/.pth).</summary>
public sealed class UnsupportedFileFormatException : LoraSdkFormatException
{
    /// <summary>Creates the exception.</summary>
    public UnsupportedFileFormatException(string path, string reason) : base($"{path}: {reason}") => Path = path;

    /// <summary>The refused file.</summary>
    public string Path { get; }
}
