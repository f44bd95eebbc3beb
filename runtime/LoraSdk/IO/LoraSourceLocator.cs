using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;

namespace LoraSdk.IO;

/// <summary>
/// Turns what <c>LoadLoraWeights</c> accepts into one file, as diffusers' <c>load_lora_weights(path, weight_name=…)</c>
/// does: a <c>.safetensors</c> file; a folder plus a weight name; a folder holding exactly one <c>.safetensors</c> file
/// (what <c>SaveLoraWeights</c> writes); or a PEFT adapter folder (<c>adapter_config.json</c> +
/// <c>adapter_model.safetensors</c>). Anything else is a <see cref="LoraException"/> that names the path and says
/// what is wrong, before anything is read.
/// </summary>
internal static class LoraSourceLocator
{
    /// <summary>PEFT's adapter config file name.</summary>
    public const string PeftConfigName = LoraSdk.Core.LoraFileModel.PeftConfigFileName;

    /// <summary>PEFT's adapter weights file name.</summary>
    public const string PeftWeightsName = LoraSdk.Core.LoraFileModel.PeftWeightsFileName;

    /// <summary>The LoRA file to read, and the PEFT config beside it when <paramref name="path"/> is a PEFT folder.</summary>
    public static (string File, string? PeftConfig) Resolve(string path, string? weightName)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("a LoRA path is required", nameof(path));
        if (File.Exists(path))
        {
            if (weightName is not null)
            {
                throw new LoraException(LoraErrorKind.SourceNotFound,
                    $"{path} is a file; weightName ('{weightName}') selects a file inside a folder. Pass the folder, or the file without weightName.",
                    sourceName: path);
            }
            return (path, PeftConfigBeside(path));
        }
        if (!Directory.Exists(path))
            throw new LoraException(LoraErrorKind.SourceNotFound, $"{path}: no such LoRA file or folder.", sourceName: path);

        if (weightName is not null)
        {
            string file = Path.Combine(path, weightName);
            if (Directory.Exists(file))
                throw new LoraException(LoraErrorKind.SourceNotFound, $"{file} is a folder; weightName must name a .safetensors file in {path}.", sourceName: file);
            if (!File.Exists(file))
                throw new LoraException(LoraErrorKind.SourceNotFound, $"{path} has no file '{weightName}'{Listing(path)}.", sourceName: file);
            return (file, PeftConfigBeside(file));
        }
        string peftWeights = Path.Combine(path, PeftWeightsName);
        if (File.Exists(Path.Combine(path, PeftConfigName)) && File.Exists(peftWeights)) return (peftWeights, Path.Combine(path, PeftConfigName));
        var candidates = Directory.GetFiles(path, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (candidates.Count == 1) return (candidates[0], PeftConfigBeside(candidates[0]));
        if (candidates.Count == 0)
        {
            RefusePickledPeftWeights(path);
            var adapters = PeftAdapterSubfolders(path);
            if (adapters.Count > 0)
            {
                throw new LoraException(LoraErrorKind.SourceNotFound,
                    $"{path} holds no .safetensors file itself but PEFT adapter subfolders ({string.Join(", ", adapters)}), as PeftModel.save_pretrained " +
                    $"writes adapters not named 'default'; pass the subfolder (e.g. {Path.Combine(path, adapters[0])}, or LoadPeftAdapter(folder, subfolder: \"{adapters[0]}\")).",
                    sourceName: path);
            }
            throw new LoraException(LoraErrorKind.SourceNotFound,
                $"{path} is a folder without a .safetensors file (nor a PEFT adapter folder with {PeftConfigName} and {PeftWeightsName}); pass the LoRA file, or the folder that holds it.",
                sourceName: path);
        }
        throw new LoraException(LoraErrorKind.AmbiguousSource,
            $"{path} holds {candidates.Count} .safetensors files ({string.Join(", ", candidates.Take(5).Select(Path.GetFileName))}{(candidates.Count > 5 ? ", ..." : "")}); pass weightName to choose one.",
            sourceName: path);
    }

    /// <summary>
    /// PEFT's <c>from_pretrained(folder, subfolder=…)</c> / <c>load_adapter</c>: the adapter folder
    /// <paramref name="path"/>[/<paramref name="subfolder"/>] must hold <c>adapter_config.json</c> and
    /// <c>adapter_model.safetensors</c>. Returns both paths; anything else is a <see cref="LoraException"/> naming the
    /// folder and what it holds instead (other adapters' subfolders, a pickle checkpoint, ...).
    /// </summary>
    public static (string Weights, string Config) ResolvePeftFolder(string path, string? subfolder)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("a PEFT adapter folder is required", nameof(path));
        if (File.Exists(path))
        {
            throw new LoraException(LoraErrorKind.SourceNotFound,
                $"{path} is a file; a PEFT adapter is a folder with {PeftConfigName} and {PeftWeightsName} (use LoadLoraWeights for a LoRA file).",
                sourceName: path);
        }
        if (!Directory.Exists(path)) throw new LoraException(LoraErrorKind.SourceNotFound, $"{path}: no such PEFT adapter folder.", sourceName: path);
        string folder = path;
        if (!string.IsNullOrEmpty(subfolder))
        {
            if (Path.IsPathRooted(subfolder) || subfolder!.Split('/', '\\').Any(part => part == ".."))
                throw new ArgumentException($"subfolder '{subfolder}' must be a relative folder inside {path}", nameof(subfolder));
            folder = Path.Combine(path, subfolder);
            if (!Directory.Exists(folder))
            {
                var available = PeftAdapterSubfolders(path);
                throw new LoraException(LoraErrorKind.SourceNotFound,
                    $"{path} has no subfolder '{subfolder}' ({(available.Count == 0 ? "it holds no PEFT adapter subfolder" : "its PEFT adapter subfolders: " + string.Join(", ", available))}).",
                    sourceName: folder);
            }
        }
        string config = Path.Combine(folder, PeftConfigName);
        string weights = Path.Combine(folder, PeftWeightsName);
        if (!File.Exists(config))
        {
            var adapters = PeftAdapterSubfolders(folder);
            string hint = adapters.Count > 0
                ? $"; it holds the PEFT adapters {string.Join(", ", adapters)} in subfolders (PeftModel.save_pretrained writes adapters not named 'default' there): pass subfolder: \"{adapters[0]}\""
                : File.Exists(weights) ? $" beside {PeftWeightsName} (load the weights as a LoRA file with LoadLoraWeights if they carry their own metadata)" : "";
            throw new LoraException(LoraErrorKind.SourceNotFound, $"{folder} is not a PEFT adapter folder: no {PeftConfigName}{hint}.", sourceName: folder);
        }
        if (!File.Exists(weights))
        {
            RefusePickledPeftWeights(folder);
            throw new LoraException(LoraErrorKind.SourceNotFound,
                $"{folder} has {PeftConfigName} but no {PeftWeightsName}{Listing(folder)}.", sourceName: folder);
        }
        return (weights, config);
    }

    /// <summary>The subfolders of <paramref name="folder"/> that are PEFT adapter folders (ordinal order).</summary>
    public static IReadOnlyList<string> PeftAdapterSubfolders(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetDirectories(folder).Where(d => File.Exists(Path.Combine(d, PeftConfigName)))
                .Select(d => Path.GetFileName(d)!).OrderBy(n => n, StringComparer.Ordinal).ToList()
            : new List<string>();

    /// <summary>PEFT also writes <c>adapter_model.bin</c> (pickle) when asked not to use safetensors: refused, never unpickled.</summary>
    private static void RefusePickledPeftWeights(string folder)
    {
        string pickled = Path.Combine(folder, "adapter_model.bin");
        if (File.Exists(pickled))
        {
            throw new UnsupportedFileFormatException(pickled,
                "PEFT adapter weights saved with pickle (safe_serialization=False) are never loaded, because unpickling can execute code; save them as adapter_model.safetensors.");
        }
    }

    /// <summary>A PEFT config next to a file named <see cref="PeftWeightsName"/> makes it a PEFT folder's weights.</summary>
    private static string? PeftConfigBeside(string file)
    {
        if (!string.Equals(Path.GetFileName(file), PeftWeightsName, StringComparison.Ordinal)) return null;
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, PeftConfigName);
        return File.Exists(config) ? config : null;
    }

    private static string Listing(string folder)
    {
        var files = Directory.GetFiles(folder, "*.safetensors").Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).Take(5).ToList();
        return files.Count == 0 ? " (it holds no .safetensors file)" : $" (it holds {string.Join(", ", files)})";
    }
}
