using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// The safetensors weights of one pipeline component: a single <c>&lt;name&gt;[.variant].safetensors</c> or the
/// shards listed by <c>&lt;name&gt;.safetensors.index[.variant].json</c> (diffusers' variant naming; the older
/// <c>&lt;name&gt;.variant.safetensors.index.json</c> is read too). Only headers are read when opening.
/// Pickle checkpoints (<c>.bin</c>, <c>.ckpt</c>, <c>.pt</c>, <c>.pth</c>) are refused.
/// </summary>
public sealed class WeightSource : IDisposable
{
    private static readonly string[] PickleExtensions = { ".bin", ".ckpt", ".pt", ".pth" };
    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _fileByKey;

    private WeightSource(string description, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileByKey)
    {
        Description = description;
        _files = files;
        _fileByKey = fileByKey;
    }

    /// <summary>The weight file, or the shard index file, used in error messages.</summary>
    public string Description { get; }

    /// <summary>Every tensor key, ordinal-sorted.</summary>
    public IReadOnlyList<string> Keys => _fileByKey.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();

    /// <summary>The header entry of <paramref name="key"/>.</summary>
    public SafetensorsTensorInfo Info(string key) => _fileByKey[key].Info(key);

    /// <summary>The file that holds <paramref name="key"/>.</summary>
    public SafetensorsFile FileOf(string key) => _fileByKey[key];

    /// <summary>
    /// Opens the weights named <paramref name="baseName"/> (<c>diffusion_pytorch_model</c>, <c>model</c>) in
    /// <paramref name="folder"/>, preferring <paramref name="variant"/> (e.g. <c>fp16</c>) when given.
    /// </summary>
    /// <exception cref="ModelLoadException">No weights, only pickle weights, a broken index, or a bad header.</exception>
    public static WeightSource Open(string folder, string baseName, string? variant = null)
    {
        if (!Directory.Exists(folder))
            throw new ModelLoadException(ModelLoadErrorKind.MissingFile, folder, null, "component folder not found");
        var names = new List<string>();
        if (variant != null) names.Add($"{baseName}.{variant}");
        names.Add(baseName);
        foreach (var name in names)
        {
            string single = Path.Combine(folder, name + ".safetensors");
            if (File.Exists(single)) return OpenSingle(single);
            // diffusers' / transformers' _add_variant puts the variant before the index's last extension:
            // diffusion_pytorch_model.safetensors.index.fp16.json.
            if (name != baseName)
            {
                string variantIndex = Path.Combine(folder, $"{baseName}.safetensors.index.{variant}.json");
                if (File.Exists(variantIndex)) return OpenSharded(variantIndex, folder);
            }
            string index = single + ".index.json";
            if (File.Exists(index)) return OpenSharded(index, folder);
        }
        foreach (var name in names)
            foreach (var ext in PickleExtensions)
            {
                string pickle = Path.Combine(folder, name + ext);
                if (File.Exists(pickle))
                    throw new ModelLoadException(ModelLoadErrorKind.UnsupportedFileFormat, pickle, null,
                        "pickle-based checkpoints are never loaded (they can execute code); convert the weights to .safetensors");
            }
        throw new ModelLoadException(ModelLoadErrorKind.MissingFile, folder, null,
            $"no {baseName}.safetensors (or sharded {baseName}.safetensors.index.json) found");
    }

    /// <summary>Opens one safetensors file.</summary>
    public static WeightSource OpenSingle(string path)
    {
        var file = OpenFile(path);
        var byKey = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var key in file.Keys) byKey[key] = file;
        return new WeightSource(path, new List<SafetensorsFile> { file }, byKey);
    }

    private static WeightSource OpenSharded(string indexPath, string folder)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(File.ReadAllText(indexPath));
        }
        catch (JsonParseException e)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, indexPath, null, "invalid JSON: " + e.Message, e);
        }
        if (root["weight_map"] is not { Kind: JsonValueKind.Object } map)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, indexPath, "weight_map", "missing or not an object");
        var files = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var byKey = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in map.Properties)
            {
                if (entry.Value.Kind != JsonValueKind.String)
                    throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, indexPath, entry.Key, "the shard name must be a string");
                string shardName = entry.Value.AsString();
                if (shardName.Contains('/') || shardName.Contains('\\') || shardName.Contains(".."))
                    throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, indexPath, entry.Key, $"shard name '{shardName}' must be a file in the component folder");
                if (!files.TryGetValue(shardName, out var shard))
                {
                    string shardPath = Path.Combine(folder, shardName);
                    if (!File.Exists(shardPath))
                        throw new ModelLoadException(ModelLoadErrorKind.MissingFile, shardPath, entry.Key, "shard listed in the index is missing");
                    shard = OpenFile(shardPath);
                    files[shardName] = shard;
                }
                if (!shard.Header.Contains(entry.Key))
                    throw new ModelLoadException(ModelLoadErrorKind.MissingWeight, shard.Path, entry.Key, $"the index {Path.GetFileName(indexPath)} lists this tensor in this shard, but the shard does not hold it");
                byKey[entry.Key] = shard;
            }
            foreach (var shard in files.Values)
                foreach (var key in shard.Keys)
                    if (!byKey.ContainsKey(key))
                        throw new ModelLoadException(ModelLoadErrorKind.UnexpectedWeight, shard.Path, key, $"tensor is not listed in {Path.GetFileName(indexPath)}");
        }
        catch
        {
            foreach (var f in files.Values) f.Dispose();
            throw;
        }
        return new WeightSource(indexPath, files.Values.ToList(), byKey);
    }

    private static SafetensorsFile OpenFile(string path)
    {
        try
        {
            return SafetensorsFile.Open(path);
        }
        catch (UnsupportedFileFormatException e)
        {
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedFileFormat, path, null, e.Message, e);
        }
        catch (LoraSdkFormatException e)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidWeightFile, path, null, "invalid safetensors file: " + e.Message, e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
