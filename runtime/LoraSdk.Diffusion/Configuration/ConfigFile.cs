using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>
/// A component's <c>config.json</c> (or <c>model_index.json</c>, <c>scheduler_config.json</c>) with typed accessors
/// that apply diffusers' defaults for absent or <c>null</c> entries and raise <see cref="ModelLoadException"/> naming
/// the file and entry for wrong types.
/// </summary>
public sealed class ConfigFile
{
    private ConfigFile(string path, JsonValue root, string text)
    {
        Path = path;
        Root = root;
        Text = text;
    }

    /// <summary>The file the config was read from (or a description for in-memory configs).</summary>
    public string Path { get; }

    /// <summary>The JSON text as read.</summary>
    public string Text { get; }

    /// <summary>The parsed JSON object.</summary>
    internal JsonValue Root { get; }

    /// <summary>Reads and parses a config file; it must hold a JSON object.</summary>
    /// <exception cref="ModelLoadException">The file is missing or is not a JSON object.</exception>
    public static ConfigFile Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelLoadException(ModelLoadErrorKind.MissingFile, path, null, "file not found");
        string text = File.ReadAllText(path);
        return Parse(text, path);
    }

    /// <summary>Parses config text; <paramref name="sourceName"/> is used in error messages.</summary>
    /// <exception cref="ModelLoadException">The text is not a JSON object.</exception>
    public static ConfigFile Parse(string text, string sourceName)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text);
        }
        catch (JsonParseException e)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, sourceName, null, "invalid JSON: " + e.Message, e);
        }
        if (root.Kind != JsonValueKind.Object)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, sourceName, null, "the config is not a JSON object");
        return new ConfigFile(sourceName, root, text);
    }

    /// <summary>True when the entry exists and is not <c>null</c>.</summary>
    public bool Has(string key) => Root.TryGetProperty(key, out var v) && !v.IsNull;

    /// <summary>The raw entry, or null when absent or <c>null</c>.</summary>
    internal JsonValue? Get(string key) => Root.TryGetProperty(key, out var v) && !v.IsNull ? v : null;

    /// <summary>An integer entry, or <paramref name="defaultValue"/> when absent or null.</summary>
    public int GetInt(string key, int defaultValue) => GetNullableInt(key) ?? defaultValue;

    /// <summary>An integer entry, or null when absent or null.</summary>
    public int? GetNullableInt(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        return ToInt(v, key);
    }

    /// <summary>A numeric entry, or <paramref name="defaultValue"/> when absent or null.</summary>
    public double GetDouble(string key, double defaultValue) => GetNullableDouble(key) ?? defaultValue;

    /// <summary>A numeric entry, or null when absent or null.</summary>
    public double? GetNullableDouble(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        if (v.Kind != JsonValueKind.Number) throw Invalid(key, v, "a number");
        return v.AsDouble();
    }

    /// <summary>A boolean entry, or <paramref name="defaultValue"/> when absent or null.</summary>
    public bool GetBool(string key, bool defaultValue)
    {
        var v = Get(key);
        if (v is null) return defaultValue;
        if (v.Kind != JsonValueKind.True && v.Kind != JsonValueKind.False) throw Invalid(key, v, "a boolean");
        return v.AsBool();
    }

    /// <summary>A string entry, or <paramref name="defaultValue"/> when absent or null.</summary>
    public string? GetString(string key, string? defaultValue)
    {
        var v = Get(key);
        if (v is null) return defaultValue;
        if (v.Kind != JsonValueKind.String) throw Invalid(key, v, "a string");
        return v.AsString();
    }

    /// <summary>A list of strings, or <paramref name="defaultValue"/> when absent or null.</summary>
    public IReadOnlyList<string> GetStringList(string key, IReadOnlyList<string> defaultValue)
    {
        var v = Get(key);
        if (v is null) return defaultValue;
        if (v.Kind != JsonValueKind.Array) throw Invalid(key, v, "a list of strings");
        var result = new List<string>();
        foreach (var item in v.Items)
        {
            if (item.Kind != JsonValueKind.String) throw Invalid(key, item, "a list of strings");
            result.Add(item.AsString());
        }
        return result;
    }

    /// <summary>
    /// An entry that is either one integer (repeated <paramref name="count"/> times) or a list of
    /// <paramref name="count"/> integers (diffusers' <c>int | tuple[int]</c> options). Null or absent gives
    /// <paramref name="defaultValue"/> repeated, or null when that is null too.
    /// </summary>
    public int[]? GetIntOrList(string key, int count, int? defaultValue)
    {
        var v = Get(key);
        if (v is null)
            return defaultValue is int d ? Repeat(d, count) : null;
        if (v.Kind == JsonValueKind.Number) return Repeat(ToInt(v, key), count);
        if (v.Kind != JsonValueKind.Array) throw Invalid(key, v, "an integer or a list of integers");
        if (v.Items.Count != count)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, Path, key,
                $"expected {count} values (one per block), found {v.Items.Count}");
        var result = new int[count];
        for (int i = 0; i < count; i++) result[i] = ToInt(v.Items[i], key);
        return result;
    }

    /// <summary>
    /// A per-block entry whose items may themselves be lists of per-layer integers (diffusers'
    /// <c>transformer_layers_per_block</c>: <c>int | tuple[int] | tuple[tuple[int]]</c>). Each block gets an array
    /// of per-layer values; a plain integer for a block is expanded to <paramref name="layersPerBlock"/> layers.
    /// </summary>
    public int[][]? GetNestedIntList(string key, int count, int[] layersPerBlock, int? defaultValue)
    {
        var v = Get(key);
        if (v is null)
            return defaultValue is int d ? Expand(Repeat(d, count), layersPerBlock) : null;
        if (v.Kind == JsonValueKind.Number) return Expand(Repeat(ToInt(v, key), count), layersPerBlock);
        if (v.Kind != JsonValueKind.Array) throw Invalid(key, v, "an integer or a list");
        if (v.Items.Count != count)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, Path, key,
                $"expected {count} values (one per block), found {v.Items.Count}");
        var result = new int[count][];
        for (int i = 0; i < count; i++)
        {
            var item = v.Items[i];
            if (item.Kind == JsonValueKind.Array)
            {
                result[i] = new int[item.Items.Count];
                for (int j = 0; j < item.Items.Count; j++) result[i][j] = ToInt(item.Items[j], key);
            }
            else
            {
                result[i] = Repeat(ToInt(item, key), layersPerBlock[i]);
            }
        }
        return result;
    }

    /// <summary>Creates an <see cref="ModelLoadErrorKind.InvalidConfig"/> error for <paramref name="key"/>.</summary>
    public ModelLoadException InvalidValue(string key, string reason) =>
        new ModelLoadException(ModelLoadErrorKind.InvalidConfig, Path, key, reason);

    /// <summary>Creates an <see cref="ModelLoadErrorKind.UnsupportedConfiguration"/> error for <paramref name="key"/>.</summary>
    public ModelLoadException Unsupported(string key, string reason) =>
        new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, Path, key, reason);

    private int ToInt(JsonValue v, string key)
    {
        if (v.Kind != JsonValueKind.Number) throw Invalid(key, v, "an integer");
        if (v.TryGetInt64(out long l) && l >= int.MinValue && l <= int.MaxValue) return (int)l;
        double d = v.AsDouble();
        if (Math.Floor(d) == d && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        throw Invalid(key, v, "an integer");
    }

    private ModelLoadException Invalid(string key, JsonValue v, string expected) =>
        new ModelLoadException(ModelLoadErrorKind.InvalidConfig, Path, key,
            $"expected {expected} at line {v.Line}, column {v.Column}, found {v.Kind} '{v}'");

    private static int[] Repeat(int value, int count)
    {
        var a = new int[count];
        for (int i = 0; i < count; i++) a[i] = value;
        return a;
    }

    private static int[][] Expand(int[] perBlock, int[] layersPerBlock)
    {
        var result = new int[perBlock.Length][];
        for (int i = 0; i < perBlock.Length; i++) result[i] = Repeat(perBlock[i], layersPerBlock[i]);
        return result;
    }
}
