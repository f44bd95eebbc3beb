using System;
using System.Collections.Generic;
using System.IO;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// Up-front checks of the paths a command reads and writes, so that a directory where a file is expected (or the
/// reverse) and a missing input are reported in words before anything is loaded — not as "Access to the path … is
/// denied" after minutes of work — and an output that would overwrite one of the command's own inputs.
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

    /// <summary>
    /// Refuses (exit 2, before anything is read or written) an output path that would overwrite or replace one of the
    /// command's inputs: the same file or folder (symbolic links followed), a folder output that holds an input, or an
    /// existing file inside an input folder of a kind such folders are read from (<see cref="ReadKinds"/>: weights,
    /// configs, tokenizer files — not, say, a PNG left in a LoRA folder). <paramref name="inputs"/> pairs each input
    /// path with its option name (or a word such as "LoRA" for an argument); null paths are skipped.
    /// </summary>
    public static void RequireNotAnInput(string output, string outputOption, IEnumerable<(string? Path, string Option)> inputs)
    {
        if (string.IsNullOrWhiteSpace(output)) return;
        string o = Resolve(output);
        foreach (var (path, option) in inputs)
        {
            if (string.IsNullOrWhiteSpace(path)) continue;
            string i = Resolve(path);
            string reason;
            if (string.Equals(o, i, PathComparison)) reason = "writing it would overwrite that input";
            else if (IsUnder(i, o)) reason = "it holds that input, and writing it would replace it";
            else if (File.Exists(o) && IsUnder(o, i) && ReadKinds.Contains(Path.GetExtension(o))) reason = "it is a file inside that input, and writing it would change it";
            else continue;
            throw new UsageException($"{outputOption} {output} names the {option} input {path}: {reason}; choose another output path");
        }
    }

    /// <summary>
    /// Extensions of the files a pipeline folder or a LoRA / PEFT adapter folder is read from: weights (also the pickle
    /// kinds, which are refused but still the user's), configs and tokenizer files.
    /// </summary>
    private static readonly HashSet<string> ReadKinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ".safetensors", ".json", ".txt", ".model", ".bin", ".pt", ".pth", ".ckpt",
    };

    private static StringComparison PathComparison =>
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private static bool IsUnder(string path, string folder)
    {
        string prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison);
    }

    /// <summary>The full path with every existing symbolic link on the way resolved (like realpath), without a trailing separator.</summary>
    private static string Resolve(string path, int depth = 0)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "";
        string resolved = root;
        var parts = full.Substring(root.Length).Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries);
        foreach (string part in parts)
        {
            string next = Path.Combine(resolved, part);
            // A link's target may itself hold links; a cycle (too many levels) is left as it is.
            if (depth < 40 && LinkTarget(next) is { } target) next = Resolve(Path.GetFullPath(target, resolved), depth + 1);
            resolved = next;
        }
        return resolved.Length > root.Length ? resolved.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) : resolved;
    }

    /// <summary>The target of a symbolic link at <paramref name="path"/>; null for anything else (also when it vanished meanwhile).</summary>
    private static string? LinkTarget(string path)
    {
        try
        {
            FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
            return info.Exists ? info.LinkTarget : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
