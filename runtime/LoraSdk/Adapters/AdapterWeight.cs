using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>The shape of a <see cref="AdapterWeight"/> value.</summary>
public enum AdapterWeightKind
{
    /// <summary>A number.</summary>
    Number,

    /// <summary>A list of values (per-transformer scales inside a UNet block dict).</summary>
    List,

    /// <summary>A dict: per-component weights (<c>unet</c>, <c>text_encoder</c>, ...) or UNet block scales (<c>down</c>/<c>mid</c>/<c>up</c>, <c>block_i</c>).</summary>
    Dict,

    /// <summary>Python's <c>None</c>: "the default" (1.0).</summary>
    None,
}

/// <summary>
/// An adapter weight as diffusers' <c>set_adapters</c> accepts it: a number, a per-component dict
/// (<c>{"unet": …, "text_encoder": …}</c>), or a UNet block dict (<c>{"down": 0.9, "mid": 0.5, "up": {"block_0":
/// [0.4, 0.8, 1.0]}}</c>). Immutable. Build with <see cref="Of"/>, <see cref="List(double[])"/>, <see cref="Dict"/>, an implicit
/// conversion from <see cref="double"/>, or <see cref="Parse"/> from JSON (Python dict syntax with double quotes).
/// </summary>
public sealed class AdapterWeight
{
    private readonly double _number;
    private readonly IReadOnlyList<AdapterWeight> _items;
    private readonly IReadOnlyList<KeyValuePair<string, AdapterWeight>> _entries;

    private AdapterWeight(AdapterWeightKind kind, double number, IReadOnlyList<AdapterWeight>? items, IReadOnlyList<KeyValuePair<string, AdapterWeight>>? entries)
    {
        Kind = kind;
        _number = number;
        _items = items ?? Array.Empty<AdapterWeight>();
        _entries = entries ?? Array.Empty<KeyValuePair<string, AdapterWeight>>();
    }

    /// <summary>Python's <c>None</c> (treated as 1.0 where diffusers does so).</summary>
    public static AdapterWeight None { get; } = new AdapterWeight(AdapterWeightKind.None, 0, null, null);

    /// <summary>The kind of value.</summary>
    public AdapterWeightKind Kind { get; }

    /// <summary>The number (only for <see cref="AdapterWeightKind.Number"/>).</summary>
    public double Number => Kind == AdapterWeightKind.Number ? _number : throw new InvalidOperationException($"The scale is a {Kind}, not a number.");

    /// <summary>The items (only for <see cref="AdapterWeightKind.List"/>).</summary>
    public IReadOnlyList<AdapterWeight> Items => Kind == AdapterWeightKind.List ? _items : throw new InvalidOperationException($"The scale is a {Kind}, not a list.");

    /// <summary>The entries in insertion order (only for <see cref="AdapterWeightKind.Dict"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, AdapterWeight>> Entries => Kind == AdapterWeightKind.Dict ? _entries : throw new InvalidOperationException($"The scale is a {Kind}, not a dict.");

    /// <summary>A number.</summary>
    public static AdapterWeight Of(double value) => new AdapterWeight(AdapterWeightKind.Number, value, null, null);

    /// <summary>A list of numbers.</summary>
    public static AdapterWeight List(params double[] values)
    {
        var items = new AdapterWeight[values.Length];
        for (int i = 0; i < values.Length; i++) items[i] = Of(values[i]);
        return new AdapterWeight(AdapterWeightKind.List, 0, items, null);
    }

    /// <summary>A list of values.</summary>
    public static AdapterWeight List(IEnumerable<AdapterWeight> values) => new AdapterWeight(AdapterWeightKind.List, 0, new List<AdapterWeight>(values), null);

    /// <summary>A dict (keys keep their order, as Python dicts do; a repeated key keeps its first position and the last value).</summary>
    public static AdapterWeight Dict(params (string Key, AdapterWeight Value)[] entries)
    {
        var list = new List<KeyValuePair<string, AdapterWeight>>();
        foreach (var (key, value) in entries) Put(list, key, value ?? throw new ArgumentNullException(nameof(entries)));
        return new AdapterWeight(AdapterWeightKind.Dict, 0, null, list);
    }

    internal static AdapterWeight DictOf(IReadOnlyList<KeyValuePair<string, AdapterWeight>> entries) =>
        new AdapterWeight(AdapterWeightKind.Dict, 0, null, entries);

    private static void Put(List<KeyValuePair<string, AdapterWeight>> list, string key, AdapterWeight value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Key == key)
            {
                list[i] = new KeyValuePair<string, AdapterWeight>(key, value);
                return;
            }
        }
        list.Add(new KeyValuePair<string, AdapterWeight>(key, value));
    }

    /// <summary>A number.</summary>
    public static implicit operator AdapterWeight(double value) => Of(value);

    /// <summary>True for a dict that has <paramref name="key"/>.</summary>
    public bool TryGet(string key, out AdapterWeight value)
    {
        if (Kind == AdapterWeightKind.Dict)
        {
            foreach (var e in _entries)
            {
                if (e.Key == key)
                {
                    value = e.Value;
                    return true;
                }
            }
        }
        value = None;
        return false;
    }

    /// <summary>A copy of this dict without <paramref name="key"/> (Python's <c>dict.pop</c> on a copy).</summary>
    internal AdapterWeight Without(string key)
    {
        var list = new List<KeyValuePair<string, AdapterWeight>>();
        foreach (var e in Entries) if (e.Key != key) list.Add(e);
        return DictOf(list);
    }

    /// <summary>
    /// Parses JSON: numbers, <c>null</c>, arrays and objects (e.g. <c>{"unet": {"down": 0.9, "up": {"block_0": [0.4, 0.8, 1.0]}}}</c>).
    /// </summary>
    /// <exception cref="FormatException">Invalid JSON or a value that is not a number, list, dict or null.</exception>
    public static AdapterWeight Parse(string json)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(json);
        }
        catch (JsonParseException e)
        {
            throw new FormatException("Invalid LoRA scale JSON: " + e.Message, e);
        }
        return FromJson(root);
    }

    private static AdapterWeight FromJson(JsonValue v)
    {
        switch (v.Kind)
        {
            case JsonValueKind.Number:
                return Of(v.AsDouble());
            case JsonValueKind.Null:
                return None;
            case JsonValueKind.Array:
                var items = new List<AdapterWeight>();
                foreach (var item in v.Items) items.Add(FromJson(item));
                return new AdapterWeight(AdapterWeightKind.List, 0, items, null);
            case JsonValueKind.Object:
                var entries = new List<KeyValuePair<string, AdapterWeight>>();
                foreach (var p in v.Properties) Put(entries, p.Key, FromJson(p.Value));
                return DictOf(entries);
            default:
                throw new FormatException($"A LoRA scale must be a number, list, dict or null, not {v.Kind} (line {v.Line}, column {v.Column}).");
        }
    }

    /// <summary>Python-like text (<c>{'down': 0.9, 'up': {'block_0': [0.4, 0.8, 1.0]}}</c>).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Write(sb);
        return sb.ToString();
    }

    private void Write(StringBuilder sb)
    {
        switch (Kind)
        {
            case AdapterWeightKind.Number:
                sb.Append(PythonRepr.Float(_number));
                break;
            case AdapterWeightKind.None:
                sb.Append("None");
                break;
            case AdapterWeightKind.List:
                sb.Append('[');
                for (int i = 0; i < _items.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    _items[i].Write(sb);
                }
                sb.Append(']');
                break;
            default:
                sb.Append('{');
                for (int i = 0; i < _entries.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    sb.Append(PythonRepr.String(_entries[i].Key)).Append(": ");
                    _entries[i].Value.Write(sb);
                }
                sb.Append('}');
                break;
        }
    }

    internal static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
