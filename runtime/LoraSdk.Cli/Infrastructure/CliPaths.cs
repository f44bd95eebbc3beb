using System.IO;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// Up-front checks of the paths a command reads and writes, so that a directory where a file is expected (or the
/// reverse) and a missing input are reported in words before anything is loaded — not as "Access to the path … is
/// denied" after minutes of work.
/// </summary>
internal static class CliPaths
{
    /// <summary>An existing file; <paramref name="expected"/> reads like "a .safetensors file".</summary>
    public static void RequireFile(string path, string option, string expected)
    {
        if (Directory.Exists(path)) throw new CliFailure($"{option} {path}: is a directory; expected {expected}");
        if (!File.Exists(path)) throw new CliFailure($"{option} {path}: file not found (expected {expected})");
    }

    /// <summary>An existing file or folder (what LoadLoraWeights accepts: a LoRA file, a folder holding one, a PEFT adapter folder).</summary>
    public static void RequireFileOrFolder(string path, string option, string expected)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new CliFailure($"{option} {path}: not found (expected {expected})");
    }

    /// <summary>An existing folder; <paramref name="expected"/> reads like "a diffusers pipeline folder".</summary>
    public static void RequireFolder(string path, string option, string expected)
    {
        if (File.Exists(path)) throw new CliFailure($"{option} {path}: is a file; expected {expected}");
        if (!Directory.Exists(path)) throw new CliFailure($"{option} {path}: folder not found (expected {expected})");
    }

    /// <summary>A path a file can be written to: not a directory, and no existing file where a parent folder must be.</summary>
    public static void RequireWritableFile(string path, string option, string expected)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{option} needs a file path");
        if (Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
            throw new CliFailure($"{option} {path}: is a directory; expected {expected}");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        while (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
        {
            if (File.Exists(parent)) throw new CliFailure($"{option} {path}: {parent} is a file, not a folder");
            parent = Path.GetDirectoryName(parent);
        }
    }
}
