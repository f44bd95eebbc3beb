using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LoraSdk.Core;

/// <summary>
/// A minimal deterministic JSON writer (invariant culture, round-trip doubles, stable escaping). Used for the
/// <c>lorasdk inspect --json</c> contract, build sidecars and safetensors headers.
/// </summary>
internal sealed class JsonWriter
{
    private readonly StringBuilder _sb = new StringBuilder();
    private readonly bool _indented;
    private readonly Stack<bool> _hasItems = new Stack<bool>();
    private bool _afterName;

    /// <summary>Creates a writer; <paramref name="indented"/> = two-space indentation with '\n' line ends.</summary>
    public JsonWriter(bool indented = false) => _indented = indented;

    /// <summary>Starts an object.</summary>
    public JsonWriter StartObject() { BeforeValue(); _sb.Append('{'); _hasItems.Push(false); return this; }

    /// <summary>Ends the current object.</summary>
    public JsonWriter EndObject() => End('}');

    /// <summary>Starts an array.</summary>
    public JsonWriter StartArray() { BeforeValue(); _sb.Append('['); _hasItems.Push(false); return this; }

    /// <summary>Ends the current array.</summary>
    public JsonWriter EndArray() => End(']');

    /// <summary>Writes a member name; the next call writes its value.</summary>
    public JsonWriter Name(string name)
    {
        BeforeValue();
        WriteString(name);
        _sb.Append(_indented ? ": " : ":");
        _afterName = true;
        return this;
    }

    /// <summary>Writes a string (or null).</summary>
    public JsonWriter Value(string? value)
    {
        BeforeValue();
        if (value == null) _sb.Append("null"); else WriteString(value);
        return this;
    }

    /// <summary>Writes an integer.</summary>
    public JsonWriter Value(long value) { BeforeValue(); _sb.Append(value.ToString(CultureInfo.InvariantCulture)); return this; }

    /// <summary>Writes a double in round-trip form; integral values keep a trailing ".0"; NaN/Infinity are refused.</summary>
    public JsonWriter Value(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN/Infinity");
        BeforeValue();
        string s = value.ToString("R", CultureInfo.InvariantCulture);
        if (s.IndexOfAny(new[] { '.', 'E', 'e' }) < 0) s += ".0";
        _sb.Append(s);
        return this;
    }

    /// <summary>Writes a boolean.</summary>
    public JsonWriter Value(bool value) { BeforeValue(); _sb.Append(value ? "true" : "false"); return this; }

    /// <summary>Writes <c>null</c>.</summary>
    public JsonWriter Null() { BeforeValue(); _sb.Append("null"); return this; }

    /// <summary>Writes pre-serialized JSON verbatim as the next value (the caller guarantees it is valid).</summary>
    public JsonWriter Raw(string json) { BeforeValue(); _sb.Append(json); return this; }

    /// <summary>The text written so far.</summary>
    public override string ToString() => _sb.ToString();

    /// <summary>Escapes <paramref name="value"/> as a JSON string literal (with quotes).</summary>
    public static string Quote(string value)
    {
        var w = new JsonWriter();
        w.WriteString(value);
        return w._sb.ToString();
    }

    private JsonWriter End(char close)
    {
        bool had = _hasItems.Pop();
        if (had && _indented) NewLine();
        _sb.Append(close);
        return this;
    }

    private void BeforeValue()
    {
        if (_afterName) { _afterName = false; return; }
        if (_hasItems.Count == 0) return;
        bool had = _hasItems.Pop();
        if (had) _sb.Append(',');
        _hasItems.Push(true);
        if (_indented) NewLine();
    }

    private void NewLine()
    {
        _sb.Append('\n');
        _sb.Append(' ', _hasItems.Count * 2);
    }

    private void WriteString(string s)
    {
        _sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                case '\b': _sb.Append("\\b"); break;
                case '\f': _sb.Append("\\f"); break;
                default:
                    if (c < 0x20) _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else _sb.Append(c);
                    break;
            }
        }
        _sb.Append('"');
    }
}
