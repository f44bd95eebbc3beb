using System;
using LoraSdk.Core;

namespace LoraSdk.IO;

/// <summary>
/// A file could not be written: the path is a directory, its folder cannot be created, or the operating system
/// refused the write. The message is <c>"&lt;path&gt;: &lt;reason&gt;"</c>. Writes go to a temporary file that is
/// renamed into place, so when this is thrown the file that was at the path before (if any) is unchanged.
/// </summary>
public sealed class FileWriteException : LoraSdkException
{
    /// <summary>Creates the exception.</summary>
    public FileWriteException(LoraSdkErrorCategory category, string path, string reason, Exception? inner = null)
        : base(category, $"{path}: {reason}", inner)
    {
        FilePath = path;
        Reason = reason;
    }

    /// <summary>The path that was to be written.</summary>
    public string FilePath { get; }

    /// <summary>The reason without the path.</summary>
    public string Reason { get; }
}
