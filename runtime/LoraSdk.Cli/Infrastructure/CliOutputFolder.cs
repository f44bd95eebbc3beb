using System;
using System.IO;
using System.Linq;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// A folder output written all or nothing: the content goes to a hidden sibling folder, which replaces the target
/// only when complete (the previous folder, if any, is moved aside first and deleted after the swap, or put back if the
/// swap fails). An existing target is replaced only when it is empty or is what the command writes (checked up front
/// by <see cref="RequireReplaceable"/>), so a typo never deletes an unrelated folder.
/// </summary>
internal static class CliOutputFolder
{
    /// <summary>
    /// Throws unless <paramref name="path"/> can become the output folder: not a file, no file where a parent folder must
    /// be, and — when it exists — empty or accepted by <paramref name="isReplaceable"/> (described by <paramref name="what"/>).
    /// </summary>
    public static void RequireReplaceable(string path, string option, Func<string, bool> isReplaceable, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{option} needs a folder path");
        if (File.Exists(path)) throw new CliFailure($"{option} {path}: is a file; expected a folder path");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        while (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
        {
            if (File.Exists(parent)) throw new CliFailure($"{option} {path}: {parent} is a file, not a folder");
            parent = Path.GetDirectoryName(parent);
        }
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() && !isReplaceable(path))
            throw new CliFailure($"{option} {path}: the folder exists and is not {what}; refusing to replace it (choose a new or empty folder)");
    }

    /// <summary>Runs <paramref name="write"/> on a fresh hidden sibling folder, then moves it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, "." + name + ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (!Directory.Exists(full))
            {
                Directory.Move(temp, full);
                return;
            }
            string old = Path.Combine(parent, "." + name + ".old-" + Guid.NewGuid().ToString("N"));
            Directory.Move(full, old);
            try
            {
                Directory.Move(temp, full);
            }
            catch
            {
                Directory.Move(old, full);
                throw;
            }
            TryDelete(old);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover hidden folder is harmless; the output itself is complete.
        }
    }
}
