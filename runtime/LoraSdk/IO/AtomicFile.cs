using System;
using System.IO;
using LoraSdk.Core;

namespace LoraSdk.IO;

/// <summary>
/// Writes a file all or nothing: the content goes to a hidden temporary file in the same folder, is flushed to disk,
/// and is then renamed over the target (an atomic replace on the same file system). A failure at any point deletes
/// the temporary file and leaves whatever was at the path before untouched — a failed write never leaves a truncated
/// file behind. Used by <see cref="SafetensorsWriter"/> and the image writers.
/// </summary>
public static class AtomicFile
{
    /// <summary>Creates or replaces <paramref name="path"/> with what <paramref name="write"/> writes to the stream.</summary>
    /// <exception cref="FileWriteException">The path is a directory, its folder cannot be created, or writing failed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        if (path.Length == 0) throw new FileWriteException(LoraSdkErrorCategory.InvalidArgument, path, "empty file path");
        if (Directory.Exists(path))
            throw new FileWriteException(LoraSdkErrorCategory.InvalidArgument, path, "is a directory; expected a file path");
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileWriteException(LoraSdkErrorCategory.IO, path, $"cannot create the folder {directory}: {e.Message}", e);
        }
        string tmp = Path.Combine(directory, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException)
                throw new FileWriteException(LoraSdkErrorCategory.IO, path, $"cannot write: {e.Message} (an existing file is left unchanged)", e);
            throw;
        }
    }
}
