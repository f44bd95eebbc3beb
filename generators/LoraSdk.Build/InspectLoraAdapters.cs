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
/// The LoraSdk build step (runs before CoreCompile): for every manifest in <see cref="Manifests"/>, reads each
/// referenced adapter file's safetensors header with the formats core (<see cref="LoraFileModel.Read(string, LoraFileModelOptions)"/>,
/// never tensor data beyond the alpha scalars), computes size and SHA-256, and writes one sidecar per file into
/// <see cref="OutputDirectory"/> (only when its text changes). The sidecars and the manifest become AdditionalFiles of
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

    /// <summary>The adapter files that exist and have a valid header, with <c>TargetPath</c> = <c>loras/&lt;file name&gt;</c>.</summary>
    [Output]
    public ITaskItem[] AdapterFiles { get; private set; } = Array.Empty<ITaskItem>();

    /// <summary>Header reads in this run (files whose stamp did not match); for tests and benchmarks.</summary>
    [Output]
    public int HeadersRead { get; private set; }

    /// <summary>Files hashed in this run; for tests and benchmarks.</summary>
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
        foreach (var manifest in Manifests)
        {
            string manifestPath = manifest.GetMetadata("FullPath");
            try
            {
                InspectManifest(manifestPath, sidecars, adapterFiles);
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

    private void InspectManifest(string manifestPath, List<ITaskItem> sidecars, List<ITaskItem> adapterFiles)
    {
        if (!File.Exists(manifestPath)) return;
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
        var copied = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in manifest.Files)
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
            var id = new SidecarIdentity(manifestPath, file, resolved);
            string sidecarPath = Path.Combine(directory, Sanitize(id.FileName) + "-" + ShortHash(file) + ".lorasdk.json");
            expected.Add(Path.GetFileName(sidecarPath));
            expected.Add(Path.GetFileName(sidecarPath) + ".stamp");
            bool ok = Inspect(id, sidecarPath, layouts, layoutsKey);
            var item = new TaskItem(sidecarPath);
            item.SetMetadata("LoraSdkRole", "Sidecar");
            item.SetMetadata("LoraSdkAdapterFile", file);
            sidecars.Add(item);
            if (ok)
            {
                string target = "loras/" + id.FileName;
                if (copied.TryGetValue(target, out var other) && !string.Equals(other, resolved, StringComparison.Ordinal))
                {
                    Log.LogWarning(null, "LSDKBUILD", null, manifestPath, 0, 0, 0, 0,
                        "LoraSdk: '{0}' and '{1}' have the same file name; only the first is copied to '{2}' in the output folder.", other, resolved, target);
                    continue;
                }
                copied[target] = resolved;
                var adapterFile = new TaskItem(resolved);
                adapterFile.SetMetadata("TargetPath", target.Replace('/', Path.DirectorySeparatorChar));
                adapterFile.SetMetadata("CopyToOutputDirectory", "PreserveNewest");
                adapterFiles.Add(adapterFile);
            }
        }
        foreach (var stale in Directory.GetFiles(directory))
        {
            if (!expected.Contains(Path.GetFileName(stale))) File.Delete(stale);
        }
    }

    /// <summary>Writes (if changed) the sidecar of one adapter file; true when the file exists and its header is valid.</summary>
    private bool Inspect(SidecarIdentity id, string sidecarPath, BaseModelLayouts layouts, string layoutsKey)
    {
        string stampPath = sidecarPath + ".stamp";
        var info = new FileInfo(id.ResolvedPath);
        if (!info.Exists)
        {
            WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, 0, "missing", $"not found at '{id.ResolvedPath}'", layouts));
            if (File.Exists(stampPath)) File.Delete(stampPath);
            return false;
        }
        long size = info.Length;
        long ticks = info.LastWriteTimeUtc.Ticks;
        var stamp = FileStamp.TryRead(stampPath);
        if (stamp != null && stamp.SameFile(size, ticks) && stamp.LayoutsKey == layoutsKey && File.Exists(sidecarPath))
            return true;

        string sha;
        if (stamp != null && stamp.SameFile(size, ticks) && stamp.Sha256.Length == 64)
        {
            sha = stamp.Sha256;
        }
        else
        {
            try
            {
                sha = HashFile(id.ResolvedPath);
                FilesHashed++;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, size, "invalid", e.Message, layouts));
                return false;
            }
        }
        string text;
        bool ok;
        try
        {
            HeadersRead++;
            var model = LoraFileModel.Read(id.ResolvedPath, layouts.Options);
            text = SidecarDocument.Ok(id, size, sha, model, layouts);
            ok = true;
        }
        catch (LoraSdkFormatException e)
        {
            text = SidecarDocument.Failed(id, size, "invalid", e.Message, layouts);
            ok = false;
        }
        WriteIfChanged(sidecarPath, text);
        File.WriteAllText(stampPath, new FileStamp(size, ticks, sha, layoutsKey).Serialize());
        return ok;
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
