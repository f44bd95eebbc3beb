using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LoraSdk.Build;

/// <summary>
/// Resolves a manifest entry's <c>file</c> (+ <c>subfolder</c>) exactly as the runtime resolves the path it will be
/// given (runtime/LoraSdk/IO/LoraSourceLocator): without <c>subfolder</c> like <c>LoadLoraWeights(path)</c> — a
/// <c>.safetensors</c> file (an <c>adapter_model.safetensors</c> with an <c>adapter_config.json</c> beside it is that
/// PEFT folder's weights), a PEFT adapter folder, or a folder holding exactly one <c>.safetensors</c> file; with
/// <c>subfolder</c> like PEFT's <c>from_pretrained(path, subfolder=…)</c> — <c>path/subfolder</c> must be a PEFT adapter
/// folder. Anything else is an <see cref="AdapterSourceProblem"/> that names the path and what it holds instead.
/// </summary>
internal static class AdapterSourceResolver
{
    /// <summary>PEFT's adapter config file name.</summary>
    public const string PeftConfigName = LoraSdk.Core.LoraFileModel.PeftConfigFileName;

    /// <summary>PEFT's adapter weights file name.</summary>
    public const string PeftWeightsName = LoraSdk.Core.LoraFileModel.PeftWeightsFileName;

    private const string PickledPeftWeights = "adapter_model.bin";

    /// <summary>The source, or (source null) the problem.</summary>
    public static (AdapterSource? Source, AdapterSourceProblem? Problem) Resolve(string path, string? subfolder)
    {
        try
        {
            return subfolder == null ? ResolvePath(path) : ResolveSubfolder(path, subfolder);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
        {
            return (null, new AdapterSourceProblem("missing", $"could not be read at '{path}': {e.Message}", path));
        }
    }

    /// <summary><c>LoadLoraWeights(path)</c> without a weight name.</summary>
    private static (AdapterSource?, AdapterSourceProblem?) ResolvePath(string path)
    {
        if (File.Exists(path))
        {
            string? config = PeftConfigBeside(path);
            if (config == null) return (AdapterSource.File(path, Path.GetFileName(path)), null);
            string folder = Path.GetDirectoryName(path)!;
            return (AdapterSource.PeftFolder(path, PeftWeightsName, FolderName(folder), path, config, runtimeNamesFolder: false), null);
        }
        if (!Directory.Exists(path)) return (null, new AdapterSourceProblem("missing", $"was not found at '{path}'", path));

        string peftConfig = Path.Combine(path, PeftConfigName);
        string peftWeights = Path.Combine(path, PeftWeightsName);
        if (File.Exists(peftConfig) && File.Exists(peftWeights))
            return (AdapterSource.PeftFolder(path, FolderName(path), FolderName(path), peftWeights, peftConfig, runtimeNamesFolder: true), null);
        var candidates = Directory.GetFiles(path, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (candidates.Count == 1)
        {
            // What LoadLoraWeights(folder) loads: the folder's one LoRA file (SaveLoraWeights writes such a folder).
            return (AdapterSource.File(candidates[0], Path.GetFileName(candidates[0])), null);
        }
        if (candidates.Count > 1)
        {
            return (null, new AdapterSourceProblem("missing",
                $"names the folder '{path}', which holds {candidates.Count} .safetensors files ({string.Join(", ", candidates.Take(5).Select(Path.GetFileName))}" +
                $"{(candidates.Count > 5 ? ", ..." : "")}); name one of them in \"file\"", path));
        }
        if (PickledWeights(path) is { } pickled) return (null, pickled);
        var adapters = PeftAdapterSubfolders(path);
        if (adapters.Count > 0)
        {
            return (null, new AdapterSourceProblem("missing",
                $"names the folder '{path}', which holds no .safetensors file itself but PEFT adapter subfolders ({string.Join(", ", adapters)}), " +
                $"as PeftModel.save_pretrained writes adapters not named 'default'; add \"subfolder\": \"{adapters[0]}\"", path));
        }
        return (null, new AdapterSourceProblem("missing",
            $"names the folder '{path}', which holds no .safetensors file (nor is it a PEFT adapter folder with {PeftConfigName} and {PeftWeightsName})", path));
    }

    /// <summary>PEFT's <c>from_pretrained(path, subfolder=…)</c>: <c>path/subfolder</c> must be a PEFT adapter folder.</summary>
    private static (AdapterSource?, AdapterSourceProblem?) ResolveSubfolder(string path, string subfolder)
    {
        if (!IsRelativeInside(subfolder))
        {
            return (null, new AdapterSourceProblem("missing",
                $"has the subfolder '{subfolder}', which is not a relative folder inside it (no '..', not rooted)", path, atSubfolder: true));
        }
        if (File.Exists(path))
        {
            return (null, new AdapterSourceProblem("missing",
                $"is a file, but \"subfolder\" selects an adapter folder inside a PEFT folder (one with {PeftConfigName} and {PeftWeightsName}); " +
                "remove \"subfolder\" or name the folder", path));
        }
        if (!Directory.Exists(path)) return (null, new AdapterSourceProblem("missing", $"was not found at '{path}'", path));
        string folder = Path.Combine(path, subfolder);
        if (!Directory.Exists(folder))
        {
            var available = PeftAdapterSubfolders(path);
            return (null, new AdapterSourceProblem("missing",
                $"has no subfolder '{subfolder}' ({(available.Count == 0 ? "it holds no PEFT adapter subfolder" : "its PEFT adapter subfolders: " + string.Join(", ", available))})",
                folder, atSubfolder: true));
        }
        string config = Path.Combine(folder, PeftConfigName);
        string weights = Path.Combine(folder, PeftWeightsName);
        if (!File.Exists(config))
        {
            var adapters = PeftAdapterSubfolders(folder);
            string hint = adapters.Count > 0
                ? $"; it holds the PEFT adapters {string.Join(", ", adapters)} in subfolders: use \"subfolder\": \"{Combine(subfolder, adapters[0])}\""
                : File.Exists(weights) ? $" beside {PeftWeightsName} (name that file in \"file\", without \"subfolder\", if it carries its own metadata)" : "";
            return (null, new AdapterSourceProblem("missing", $"has in subfolder '{subfolder}' no PEFT adapter folder ('{folder}' has no {PeftConfigName}{hint})",
                folder, atSubfolder: true));
        }
        if (!File.Exists(weights))
        {
            if (PickledWeights(folder) is { } pickled) return (null, pickled);
            return (null, new AdapterSourceProblem("missing",
                $"has in subfolder '{subfolder}' a PEFT adapter folder without weights ('{folder}' has {PeftConfigName} but no {PeftWeightsName}{Listing(folder)})",
                folder, atSubfolder: true));
        }
        string name = FolderName(folder);
        return (AdapterSource.PeftFolder(folder, name, name, weights, config, runtimeNamesFolder: true), null);
    }

    /// <summary>What PEFT's loader accepts as <c>subfolder</c> (the runtime refuses rooted paths and <c>..</c>).</summary>
    public static bool IsRelativeInside(string subfolder) =>
        subfolder.Length > 0 && !Path.IsPathRooted(subfolder) && subfolder[0] != '/' && subfolder[0] != '\\' &&
        !subfolder.Split('/', '\\').Any(part => part == "..");

    private static string Combine(string a, string b) => a.TrimEnd('/', '\\') + "/" + b;

    /// <summary>PEFT also writes <c>adapter_model.bin</c> (pickle) when asked not to use safetensors: never read.</summary>
    private static AdapterSourceProblem? PickledWeights(string folder)
    {
        string pickled = Path.Combine(folder, PickledPeftWeights);
        if (!File.Exists(pickled)) return null;
        return new AdapterSourceProblem("invalid",
            $"'{pickled}' holds PEFT adapter weights saved with pickle (safe_serialization=False), which are never loaded because unpickling can execute code; " +
            $"save them as {PeftWeightsName}", pickled);
    }

    /// <summary>A PEFT config next to a file named <see cref="PeftWeightsName"/> makes it a PEFT folder's weights.</summary>
    private static string? PeftConfigBeside(string file)
    {
        if (!string.Equals(Path.GetFileName(file), PeftWeightsName, StringComparison.Ordinal)) return null;
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, PeftConfigName);
        return File.Exists(config) ? config : null;
    }

    /// <summary>The subfolders of <paramref name="folder"/> that hold an <c>adapter_config.json</c> (ordinal order).</summary>
    private static List<string> PeftAdapterSubfolders(string folder) =>
        Directory.GetDirectories(folder).Where(d => File.Exists(Path.Combine(d, PeftConfigName)))
            .Select(d => Path.GetFileName(d)!).OrderBy(n => n, StringComparer.Ordinal).ToList();

    private static string Listing(string folder)
    {
        var files = Directory.GetFiles(folder, "*.safetensors").Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).Take(5).ToList();
        return files.Count == 0 ? "; it holds no .safetensors file" : $"; it holds {string.Join(", ", files)}";
    }

    /// <summary>A folder's own name (a trailing separator ignored); "adapter" for a root.</summary>
    private static string FolderName(string folder)
    {
        string name = Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        return string.IsNullOrEmpty(name) ? "adapter" : name;
    }
}
