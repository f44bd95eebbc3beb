using System;
using System.IO;
using System.Linq;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// A folder written completely before it is presented: everything goes to a hidden sibling folder, which replaces
/// the target in one rename on <see cref="Commit"/>. An existing target is replaced as a whole, and only when it is
/// empty or something this kind of save writes (<c>isReplaceable</c>); a save that fails leaves the target as it was
/// and removes the temporary folder.
/// </summary>
internal sealed class AtomicFolder : IDisposable
{
    private readonly string _target;
    private bool _committed;

    private AtomicFolder(string target, string temp)
    {
        _target = target;
        Path = temp;
    }

    /// <summary>The temporary folder to write into.</summary>
    public string Path { get; }

    /// <summary>Starts writing <paramref name="target"/>; <paramref name="what"/> names what a replaceable folder holds.</summary>
    /// <exception cref="ModelSaveException">The target is a file, or an existing folder this save may not replace.</exception>
    public static AtomicFolder Begin(string target, Func<string, bool> isReplaceable, string what)
    {
        if (string.IsNullOrWhiteSpace(target)) throw new ArgumentException("a folder is required", nameof(target));
        string full = System.IO.Path.GetFullPath(target.TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar));
        if (File.Exists(full))
            throw new ModelSaveException(ModelSaveErrorKind.InvalidTarget, target, "Provided path should be a directory, not a file");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !isReplaceable(full))
            throw new ModelSaveException(ModelSaveErrorKind.InvalidTarget, target,
                $"the folder exists and is not a saved {what}; it is not replaced (save to a new or empty folder)");
        string parent = System.IO.Path.GetDirectoryName(full) ?? throw new ModelSaveException(ModelSaveErrorKind.InvalidTarget, target, "cannot save to a file-system root");
        Directory.CreateDirectory(parent);
        string temp = System.IO.Path.Combine(parent, "." + System.IO.Path.GetFileName(full) + ".saving-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        return new AtomicFolder(full, temp);
    }

    /// <summary>Moves the completed folder into place (replacing the old target, which is then deleted).</summary>
    public void Commit()
    {
        if (_committed) throw new InvalidOperationException("already committed");
        string? old = null;
        if (Directory.Exists(_target))
        {
            old = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(_target)!, "." + System.IO.Path.GetFileName(_target) + ".replaced-" + Guid.NewGuid().ToString("N"));
            Directory.Move(_target, old);
        }
        try
        {
            Directory.Move(Path, _target);
        }
        catch
        {
            if (old is not null) Directory.Move(old, _target);
            throw;
        }
        _committed = true;
        if (old is not null)
        {
            try
            {
                Directory.Delete(old, recursive: true);
            }
            catch (IOException)
            {
                // The new folder is in place; a leftover hidden copy of the old one is harmless.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Removes the temporary folder unless committed.</summary>
    public void Dispose()
    {
        if (_committed) return;
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
