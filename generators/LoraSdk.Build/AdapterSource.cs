using System.Collections.Generic;

namespace LoraSdk.Build;

/// <summary>
/// What a manifest entry's <c>file</c> (and <c>subfolder</c>) names once resolved the way the runtime's
/// <c>LoadLoraWeights</c> / <c>LoadPeftAdapter</c> resolve a path (<see cref="AdapterSourceResolver"/>): one LoRA
/// <c>.safetensors</c> file, or a PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>).
/// </summary>
internal sealed class AdapterSource
{
    private AdapterSource(string resolvedPath, string displayName, string weights, string? config, string? copyFolder, bool runtimeNamesFolder)
    {
        ResolvedPath = resolvedPath;
        DisplayName = displayName;
        Weights = weights;
        Config = config;
        CopyFolder = copyFolder;
        RuntimeNamesFolder = runtimeNamesFolder;
    }

    /// <summary>What the entry names, as a full path: the file, or the adapter folder.</summary>
    public string ResolvedPath { get; }

    /// <summary>The sidecar's <c>fileName</c>: the file's name, or the adapter folder's name.</summary>
    public string DisplayName { get; }

    /// <summary>The safetensors file whose header is read.</summary>
    public string Weights { get; }

    /// <summary>The PEFT folder's <c>adapter_config.json</c>, or null for a plain LoRA file.</summary>
    public string? Config { get; }

    /// <summary>True for a PEFT adapter folder: its config decides ranks, alphas and targets.</summary>
    public bool IsPeftFolder => Config != null;

    /// <summary>PEFT: the folder name the two files are copied under (<c>loras/&lt;hash&gt;/&lt;CopyFolder&gt;/…</c>); null for a file.</summary>
    public string? CopyFolder { get; }

    /// <summary>PEFT: the runtime path names the folder (true) or, when the entry named the weights file, that file inside it.</summary>
    public bool RuntimeNamesFolder { get; }

    /// <summary>The files whose bytes the adapter is (config first), each with its name in the copy.</summary>
    public IReadOnlyList<(string Path, string Name)> Files =>
        Config == null
            ? new[] { (Weights, DisplayName) }
            : new[] { (Config, AdapterSourceResolver.PeftConfigName), (Weights, AdapterSourceResolver.PeftWeightsName) };

    public static AdapterSource File(string path, string fileName) => new AdapterSource(path, fileName, path, null, null, false);

    public static AdapterSource PeftFolder(string resolvedPath, string displayName, string folderName, string weights, string config, bool runtimeNamesFolder) =>
        new AdapterSource(resolvedPath, displayName, weights, config, folderName, runtimeNamesFolder);

    /// <summary>Where the adapter is copied, relative to the output folder, for content hash <paramref name="sha256"/>.</summary>
    public string RuntimePath(string sha256) =>
        Config == null
            ? AdapterOutputPath.Of(sha256, DisplayName)
            : AdapterOutputPath.Of(sha256, CopyFolder!) + (RuntimeNamesFolder ? "" : "/" + AdapterSourceResolver.PeftWeightsName);

    /// <summary>Where each file of <see cref="Files"/> is copied, relative to the output folder.</summary>
    public string CopyTarget(string sha256, string name) =>
        Config == null ? AdapterOutputPath.Of(sha256, DisplayName) : AdapterOutputPath.Of(sha256, CopyFolder!) + "/" + name;
}

/// <summary>Why an entry names no usable adapter: the sidecar's <c>status</c> and <c>error</c>, and where it is located.</summary>
internal sealed class AdapterSourceProblem
{
    public AdapterSourceProblem(string status, string message, string resolvedPath, bool atSubfolder = false)
    {
        Status = status;
        Message = message;
        ResolvedPath = resolvedPath;
        AtSubfolder = atSubfolder;
    }

    /// <summary><c>missing</c> (nothing usable at the path) or <c>invalid</c> (a pickle checkpoint instead of safetensors).</summary>
    public string Status { get; }

    /// <summary>The rest of the sentence "Adapter 'X': file 'f' …".</summary>
    public string Message { get; }

    /// <summary>The path the problem is about (the sidecar's <c>path</c>).</summary>
    public string ResolvedPath { get; }

    /// <summary>The problem is the entry's <c>subfolder</c> (the generator locates it there).</summary>
    public bool AtSubfolder { get; }
}
