using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// An immutable JSON node that remembers where it started in the source text (for diagnostics located at a
/// manifest's line and column). Parse with <see cref="Parse"/>.
/// </summary>
internal sealed class JsonValue
{
    private static readonly IReadOnlyList<JsonValue> NoItems = new JsonValue[0];
    private static readonly IReadOnlyList<KeyValuePair<string, JsonValue>> NoProperties = new KeyValuePair<string, JsonValue>[0];

    // Strings without escapes and numbers keep a slice of the source text and are materialized on first use, so
    // parsing large documents (build sidecars) allocates one object per node and nothing else.
    private readonly string? _source;
    private readonly int _sliceStart;
    private readonly int _sliceLength;
    private string? _text;
    private readonly IReadOnlyList<JsonValue> _items;
    private readonly IReadOnlyList<KeyValuePair<string, JsonValue>> _properties;
    private Dictionary<string, JsonValue>? _index;

    internal JsonValue(JsonValueKind kind, string? text, IReadOnlyList<JsonValue>? items,
        IReadOnlyList<KeyValuePair<string, JsonValue>>? properties, int line, int column, int offset)
    {
        Kind = kind;
        _text = text;
        _items = items ?? NoItems;
        _properties = properties ?? NoProperties;
        Line = line;
        Column = column;
        Offset = offset;
    }

    internal JsonValue(JsonValueKind kind, string source, int sliceStart, int sliceLength, int line, int column, int offset)
    {
        Kind = kind;
        _source = source;
        _sliceStart = sliceStart;
        _sliceLength = sliceLength;
        _items = NoItems;
        _properties = NoProperties;
        Line = line;
        Column = column;
        Offset = offset;
    }

    private string Text => _text ??= _source!.Substring(_sliceStart, _sliceLength);

    /// <summary>The node's kind.</summary>
    public JsonValueKind Kind { get; }

    /// <summary>1-based line of the node's first character.</summary>
    public int Line { get; }

    /// <summary>1-based column of the node's first character.</summary>
    public int Column { get; }

    /// <summary>0-based character offset of the node's first character.</summary>
    public int Offset { get; }

    /// <summary>Array items (empty for non-arrays).</summary>
    public IReadOnlyList<JsonValue> Items => _items;

    /// <summary>Object members in source order (empty for non-objects). Duplicate names are rejected by the parser.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonValue>> Properties => _properties;

    /// <summary>The member named <paramref name="name"/>, or null when absent or when this is not an object.</summary>
    public JsonValue? this[string name] => TryGetProperty(name, out var v) ? v : null;

    /// <summary>Looks up an object member.</summary>
    public bool TryGetProperty(string name, out JsonValue value)
    {
        if (Kind != JsonValueKind.Object)
        {
            value = null!;
            return false;
        }
        if (_index == null)
        {
            var index = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
            foreach (var p in _properties) index[p.Key] = p.Value;
            _index = index;
        }
        return _index.TryGetValue(name, out value!);
    }

    /// <summary>The string value; throws for other kinds.</summary>
    public string AsString() => Kind == JsonValueKind.String ? Text : throw WrongKind("a string");

    /// <summary>The raw number text as written in the source (for exact integer checks).</summary>
    public string NumberText => Kind == JsonValueKind.Number ? Text : throw WrongKind("a number");

    /// <summary>The number as a double (invariant culture); throws for other kinds.</summary>
    public double AsDouble() =>
        Kind == JsonValueKind.Number ? double.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture) : throw WrongKind("a number");

    /// <summary>True when the number is an integer that fits in <see cref="long"/>.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (Kind != JsonValueKind.Number) return false;
        if (_text == null && _sliceLength <= 18)
        {
            // Fast path for plain integers (the bulk of header numbers): no substring, no culture lookup.
            long v = 0;
            int i = _sliceStart, end = _sliceStart + _sliceLength;
            bool negative = _source![i] == '-';
            if (negative) i++;
            if (i == end) return false;
            for (; i < end; i++)
            {
                char c = _source[i];
                if (c < '0' || c > '9') return long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
                v = v * 10 + (c - '0');
            }
            value = negative ? -v : v;
            return true;
        }
        return long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The number as a 64-bit integer; throws when it is not an integer in range.</summary>
    public long AsInt64() => TryGetInt64(out long v) ? v : throw WrongKind("an integer");

    /// <summary>The boolean value; throws for other kinds.</summary>
    public bool AsBool() => Kind == JsonValueKind.True || (Kind == JsonValueKind.False ? false : throw WrongKind("a boolean"));

    /// <summary>True for the literal <c>null</c>.</summary>
    public bool IsNull => Kind == JsonValueKind.Null;

    /// <summary>Parses strict RFC 8259 JSON (no comments, no trailing commas, duplicate member names rejected).</summary>
    /// <exception cref="JsonParseException">The text is not valid JSON.</exception>
    public static JsonValue Parse(string text) => new JsonParser(text).ParseDocument();

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        JsonValueKind.String => Text,
        JsonValueKind.Number => Text,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => $"[{_items.Count} items]",
        _ => $"{{{_properties.Count} members}}",
    };

    private InvalidOperationException WrongKind(string expected) =>
        new InvalidOperationException($"JSON value at line {Line}, column {Column} is {Kind}, not {expected}.");
}
