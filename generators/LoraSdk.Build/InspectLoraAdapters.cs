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

    /// <summary>
    /// The adapter files that exist and have a valid header, with <c>TargetPath</c> =
    /// <c>loras/&lt;first 16 hex digits of the SHA-256&gt;/&lt;file name&gt;</c> (<see cref="AdapterOutputPath"/>): the path
    /// changes exactly when the bytes do, so two files with one name never collide and a replaced file is always copied.
    /// </summary>
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
            string? sha = Inspect(id, sidecarPath, layouts, layoutsKey);
            var item = new TaskItem(sidecarPath);
            item.SetMetadata("LoraSdkRole", "Sidecar");
            item.SetMetadata("LoraSdkAdapterFile", file);
            sidecars.Add(item);
            if (sha != null)
            {
                // Content-addressed: another file with this name has another hash; the same bytes under the same name are one copy.
                string target = AdapterOutputPath.Of(sha, id.FileName);
                if (!copied.Add(target)) continue;
                var adapterFile = new TaskItem(resolved);
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

    /// <summary>
    /// Writes (if changed) the sidecar of one adapter file; returns its SHA-256 when the file exists and its header is
    /// valid, else null. The stamp (size, last-write and creation time) decides whether the file is hashed again.
    /// </summary>
    private string? Inspect(SidecarIdentity id, string sidecarPath, BaseModelLayouts layouts, string layoutsKey)
    {
        string stampPath = sidecarPath + ".stamp";
        var info = new FileInfo(id.ResolvedPath);
        if (!info.Exists)
        {
            WriteIfChanged(sidecarPath, SidecarDocument.Failed(id, 0, "missing", $"not found at '{id.ResolvedPath}'", layouts));
            if (File.Exists(stampPath)) File.Delete(stampPath);
            return null;
        }
        long size = info.Length;
        long ticks = info.LastWriteTimeUtc.Ticks;
        long created = info.CreationTimeUtc.Ticks;
        var stamp = FileStamp.TryRead(stampPath);
        if (stamp != null && stamp.SameFile(size, ticks, created) && stamp.LayoutsKey == layoutsKey && File.Exists(sidecarPath))
            return stamp.Ok ? stamp.Sha256 : null;

        string sha;
        if (stamp != null && stamp.SameFile(size, ticks, created) && stamp.Sha256.Length == 64)
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
                if (File.Exists(stampPath)) File.Delete(stampPath);
                return null;
            }
        }
        string text;
        bool ok;
        try
        {
            HeadersRead++;
            var model = LoraFileModel.Read(id.ResolvedPath, layouts.Options);
            text = SidecarDocument.Ok(id, size, sha, AdapterOutputPath.Of(sha, id.FileName), model, layouts);
            ok = true;
        }
        catch (LoraSdkFormatException e)
        {
            text = SidecarDocument.Failed(id, size, "invalid", e.Message, layouts);
            ok = false;
        }
        WriteIfChanged(sidecarPath, text);
        File.WriteAllText(stampPath, new FileStamp(size, ticks, created, sha, layoutsKey, ok).Serialize());
        return ok ? sha : null;
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
