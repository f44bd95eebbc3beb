using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using LoraSdk.Core;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LoraSdk.Build;

/// <summary>
/// The LoraSdk build step (runs before CoreCompile): for every manifest in <see cref="Manifests"/>, resolves each
/// entry's <c>file</c> (+ <c>subfolder</c>) as the runtime would (<see cref="AdapterSourceResolver"/>: a LoRA file, or a
/// PEFT adapter folder), reads the safetensors header with the formats core
/// (<see cref="LoraFileModel.Read(string, LoraFileModelOptions)"/>, never tensor data beyond the alpha scalars) — for a
/// PEFT folder with its <c>adapter_config.json</c>, deciding what loading it keeps or refuses (<see cref="PeftLoadPlan"/>)
/// — computes size and SHA-256, and writes one sidecar per adapter into <see cref="OutputDirectory"/> (only when its
/// text changes). The sidecars and the manifest become AdditionalFiles of
/// the source generator, which reports every problem (missing file, bad header, …) as a diagnostic located in the
/// manifest; this task itself never fails the build for bad input.
/// </summary>
public sealed class InspectLoraAdapters : Task
{
    /// <summary>The manifests (items with full paths).</summary>
    [Required]
    public ITaskItem[] Manifests { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The folder of the sidecars (normally <c>$(IntermediateOutputPath)lorasdk/</c>).</summary>
    [Required]
    public string OutputDirectory { get; set; } = "";

    /// <summary>The sidecars of all manifests (metadata <c>LoraSdkRole</c> = <c>Sidecar</c>).</summary>
    [Output]
    public ITaskItem[] Sidecars { get; private set; } = Array.Empty<ITaskItem>();

    /// <summary>
    /// The adapter files that exist and have a valid header, with <c>TargetPath</c> =
    /// <c>loras/&lt;first 16 hex digits of the SHA-256&gt;/&lt;file name&gt;</c> (<see cref="AdapterOutputPath"/>): the path
    /// changes exactly when the bytes do, so two files with one name never collide and a replaced file is always copied.
    /// A PEFT adapter folder gives its two files, under <c>loras/&lt;hash&gt;/&lt;folder name&gt;/</c> (the folder hash
    /// covers both, <see cref="SidecarDocument.FolderHash"/>).
    /// </summary>
    [Output]
    public ITaskItem[] AdapterFiles { get; private set; } = Array.Empty<ITaskItem>();

    /// <summary>Header reads in this run (files whose stamp did not match); for tests and benchmarks.</summary>
    [Output]
    public int HeadersRead { get; private set; }

    /// <summary>Files hashed in this run (a PEFT folder counts its two files); for tests and benchmarks.</summary>
    [Output]
    public int FilesHashed { get; private set; }

    /// <summary>Sidecars written (text changed) in this run; for tests and benchmarks.</summary>
    [Output]
    public int SidecarsWritten { get; private set; }

    private static readonly string ToolKey = typeof(InspectLoraAdapters).Assembly.ManifestModule.ModuleVersionId.ToString("N") + "/" +
                                             typeof(LoraFileModel).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    /// <inheritdoc />
    public override bool Execute()
    {
        var sidecars = new List<ITaskItem>();
        var adapterFiles = new List<ITaskItem>();
        var copied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var manifest in Manifests)
        {
            string manifestPath = manifest.GetMetadata("FullPath");
            try
            {
                InspectManifest(manifestPath, sidecars, adapterFiles, copied);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogWarning(null, "LSDKBUILD", null, manifestPath, 0, 0, 0, 0,
                    "The LoraSdk build step could not write the header sidecars of '{0}': {1}", manifestPath, e.Message);
            }
        }
        Sidecars = sidecars.ToArray();
        AdapterFiles = adapterFiles.ToArray();
        return !Log.HasLoggedErrors;
    }

    // copied: target paths already added (by any manifest); the same bytes under the same name are copied once.
    private void InspectManifest(string manifestPath, List<ITaskItem> sidecars, List<ITaskItem> adapterFiles, HashSet<string> copied)
    {
        if (!File.Exists(manifestPath))
        {
            Log.LogError(null, "LSDKBUILD", null, manifestPath, 0, 0, 0, 0, "The LoraSdkManifest item '{0}' does not exist.", manifestPath);
            return;
        }
        var manifest = ManifestFiles.TryRead(File.ReadAllText(manifestPath));
        string directory = Path.Combine(Path.GetFullPath(OutputDirectory), Sanitize(Path.GetFileName(manifestPath)) + "-" + ShortHash(manifestPath));
        if (manifest == null)
        {
            // Unreadable manifest: the generator reports LSDK001; keep the previous sidecars so a fix does not re-hash.
            Log.LogMessage(MessageImportance.Low, "LoraSdk: '{0}' is not a JSON object; no header sidecars written.", manifestPath);
            return;
        }
        Directory.CreateDirectory(directory);
        string manifestDirectory = Path.GetDirectoryName(manifestPath)!;
        var layouts = BaseModelLayouts.Resolve(manifest.BaseModel, manifestDirectory);
        string layoutsKey = layouts.Key + "|" + ToolKey;
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, subfolder) in manifest.Files)
        {
            string resolved;
            try
            {
                resolved = Path.GetFullPath(Path.Combine(manifestDirectory, file));
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                resolved = file;
            }
            var (source, problem) = AdapterSourceResolver.Resolve(resolved, subfolder);
            var id = new SidecarIdentity(manifestPath, file, source?.ResolvedPath ?? problem!.ResolvedPath, subfolder,
                source?.DisplayName ?? SidecarFileName(problem!.ResolvedPath));
            string key = subfolder == null ? file : file + "\n" + subfolder;
            string sidecarPath = Path.Combine(directory, Sanitize(id.FileName) + "-" + ShortHash(key) + ".lorasdk.json");
            expected.Add(Path.GetFileName(sidecarPath));
            expected.Add(Path.GetFileName(sidecarPath) + ".stamp");
            string? sha = source == null ? Unusable(id, sidecarPath, problem!, layouts) : Inspect(id, source, sidecarPath, layouts, layoutsKey);
            var item = new TaskItem(sidecarPath);
            item.SetMetadata("LoraSdkRole", "Sidecar");
            item.SetMetadata("LoraSdkAdapterFile", file);
            sidecars.Add(item);
            if (sha == null) continue;
            // Content-addressed: another adapter with this name has another hash; the same bytes under the same name are one copy.
            // A PEFT folder is copied as a folder (its config and weights side by side), so the runtime finds it as one.
            foreach (var (path, name) in source!.Files)
            {
                string target = source.CopyTarget(sha, name);
                if (!copied.Add(target)) continue;
                var adapterFile = new TaskItem(path);
                adapterFile.SetMetadata("TargetPath", target.Replace('/', Path.DirectorySeparatorChar));
                // A new content is a new path, so "copy when missing or newer" always copies it; publish copies every time.
                adapterFile.SetMetadata("CopyToOutputDirectory", "PreserveNewest");
                adapterFile.SetMetadata("CopyToPublishDirectory", "PreserveNewest");
                adapterFiles.Add(adapterFile);
            }
        }
        foreach (var stale in Directory.GetFiles(directory))
        {
            if (!expected.Contains(Path.GetFileName(stale))) File.Delete(stale);
        }
    }

    /// <summary>The sidecar of an entry that names nothing usable (<see cref="AdapterSourceProblem"/>); never copied.</summary>
    private string? Unusable(SidecarIdentity id, string sidecarPath, AdapterSourceProblem problem, BaseModelLayouts layouts)
    {
        WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, 0, problem.Status, problem.Message, layouts, problem.AtSubfolder));
        string stampPath = sidecarPath + ".stamp";
        if (File.Exists(stampPath)) File.Delete(stampPath);
        return null;
    }

    private static string SidecarFileName(string path)
    {
        string name = Path.GetFileName(path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        return name.Length == 0 ? "adapter" : name;
    }

    /// <summary>
    /// Writes (if changed) the sidecar of one adapter (a file or a PEFT folder); returns its SHA-256 when it is usable
    /// (the header is valid and, for a PEFT folder, the runtime would load it), else null. The stamp (every file's
    /// size, last-write and creation time) decides whether the files are hashed and read again.
    /// </summary>
    private string? Inspect(SidecarIdentity id, AdapterSource source, string sidecarPath, BaseModelLayouts layouts, string layoutsKey)
    {
        string stampPath = sidecarPath + ".stamp";
        string sourceKey;
        long size;
        try
        {
            sourceKey = FileStamp.KeyOf(source.Files.Select(f => f.Path));
            size = source.Files.Sum(f => new FileInfo(f.Path).Length);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, 0, "invalid", e.Message, layouts));
            if (File.Exists(stampPath)) File.Delete(stampPath);
            return null;
        }
        var stamp = FileStamp.TryRead(stampPath);
        if (stamp != null && stamp.SameSource(sourceKey) && stamp.LayoutsKey == layoutsKey && File.Exists(sidecarPath))
            return stamp.Ok ? stamp.Sha256 : null;

        // The same files: their hashes are still right (only the layouts changed, or the sidecar is gone).
        bool sameFiles = stamp != null && stamp.SameSource(sourceKey) && stamp.Sha256.Length == 64;
        string text;
        string sha;
        bool ok;
        IReadOnlyList<string>? fileHashes = null;
        try
        {
            if (source.IsPeftFolder)
                (text, sha, ok, fileHashes) = ReadPeftFolder(id, source, size, layouts, sameFiles && stamp!.FileHashes.Count == 2 ? stamp.FileHashes : null);
            else (text, sha, ok) = ReadFile(id, source, size, layouts, sameFiles ? stamp!.Sha256 : null);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, size, "invalid", e.Message, layouts));
            if (File.Exists(stampPath)) File.Delete(stampPath);
            return null;
        }
        WriteIfChanged(sidecarPath, text);
        File.WriteAllText(stampPath, new FileStamp(sourceKey, sha, layoutsKey, ok, fileHashes).Serialize());
        return ok ? sha : null;
    }

    /// <summary>A LoRA file: hash (unless <paramref name="knownSha"/>) and read its header.</summary>
    private (string Text, string Sha, bool Ok) ReadFile(SidecarIdentity id, AdapterSource source, long size, BaseModelLayouts layouts, string? knownSha)
    {
        string sha = knownSha ?? HashFile(source.Weights);
        if (knownSha == null) FilesHashed++;
        try
        {
            HeadersRead++;
            var model = LoraFileModel.Read(source.Weights, layouts.Options);
            return (SidecarDocument.Ok(id, size, sha, source.RuntimePath(sha), model, layouts), sha, true);
        }
        catch (LoraSdkFormatException e)
        {
            return (SidecarDocument.Failed(id, size, "invalid", e.Message, layouts), sha, false);
        }
    }

    /// <summary>
    /// A PEFT adapter folder: hash both files, read the config (<see cref="LoraAdapterConfig.FromJson"/>) and the
    /// weights' header with it, and decide what loading it keeps or refuses (<see cref="PeftLoadPlan"/>). A config the
    /// runtime refuses gives status <c>refused</c> (LSDK019).
    /// </summary>
    private (string Text, string Sha, bool Ok, IReadOnlyList<string> FileHashes) ReadPeftFolder(SidecarIdentity id, AdapterSource source, long size,
        BaseModelLayouts layouts, IReadOnlyList<string>? knownHashes)
    {
        byte[] configBytes = File.ReadAllBytes(source.Config!);
        string configSha, weightsSha;
        if (knownHashes != null)
        {
            configSha = knownHashes[0];
            weightsSha = knownHashes[1];
        }
        else
        {
            configSha = Hex(SHA256Of(configBytes));
            weightsSha = HashFile(source.Weights);
            FilesHashed += 2;
        }
        var hashes = new[] { configSha, weightsSha };
        string sha = SidecarDocument.FolderHash(new[] { (AdapterSourceResolver.PeftConfigName, configSha), (AdapterSourceResolver.PeftWeightsName, weightsSha) });
        var configWarnings = new List<string>();
        LoraAdapterConfig config;
        try
        {
            config = LoraAdapterConfig.FromJson(new UTF8Encoding(false).GetString(configBytes), AdapterSourceResolver.PeftConfigName, configWarnings);
        }
        catch (LoraSdkFormatException e)
        {
            return (SidecarDocument.Failed(id, size, "refused", e.Message, layouts), sha, false, hashes);
        }
        LoraFileModel model;
        try
        {
            HeadersRead++;
            model = LoraFileModel.Read(Path.GetDirectoryName(source.Weights)!, layouts.Options);
        }
        catch (LoraSdkFormatException e)
        {
            return (SidecarDocument.Failed(id, size, "invalid", e.Message, layouts), sha, false, hashes);
        }
        var plan = PeftLoadPlan.For(model, config, configWarnings, layouts);
        if (plan.Refusals.Count > 0) return (SidecarDocument.Failed(id, size, "refused", string.Join("; ", plan.Refusals), layouts), sha, false, hashes);
        var peft = new PeftSidecarInfo(configBytes.Length, configSha, new FileInfo(source.Weights).Length, weightsSha, plan);
        return (SidecarDocument.Ok(id, size, sha, source.RuntimePath(sha), model, layouts, peft), sha, true, hashes);
    }

    private static byte[] SHA256Of(byte[] bytes)
    {
        using var sha = SHA256.Create();
        return sha.ComputeHash(bytes);
    }

    private void WriteIfChanged(string path, string text)
    {
        if (File.Exists(path) && string.Equals(File.ReadAllText(path), text, StringComparison.Ordinal)) return;
        File.WriteAllText(path, text, new UTF8Encoding(false));
        SidecarsWritten++;
    }

    private static string HashFile(string path)
    {
        using var sha = SHA256.Create();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Hex(sha.ComputeHash(stream));
    }

    private static string ShortHash(string text)
    {
        using var sha = SHA256.Create();
        return Hex(sha.ComputeHash(Encoding.UTF8.GetBytes(text))).Substring(0, 8);
    }

    private static string Hex(byte[] bytes)
    {
        var sb = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string Sanitize(string name) =>
        new string(name.Select(c => char.IsLetterOrDigit(c) && c < 128 || c == '.' || c == '-' || c == '_' ? c : '_').ToArray());
}
