using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LoraSdk.Core;

/// <summary>
/// Writes values exactly like Python's <c>json.dumps(value, indent=2, sort_keys=True)</c> (ASCII output, Python float
/// repr), which is how diffusers stores <c>lora_adapter_metadata</c>. Values: null, bool, int/long, double, string,
/// <see cref="IReadOnlyList{T}"/> of values, and dicts as <see cref="IReadOnlyDictionary{TKey, TValue}"/> of string to value.
/// </summary>
internal static class PythonJsonWriter
{
    public static string Dumps(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    /// <summary>Converts a parsed JSON value to this writer's object model (ints stay ints, other numbers become doubles).</summary>
    public static object? FromJson(JsonValue v)
    {
        switch (v.Kind)
        {
            case JsonValueKind.Null: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return v.AsString();
            case JsonValueKind.Number:
                string text = v.NumberText;
                if (IsInteger(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                return v.AsDouble();
            case JsonValueKind.Array:
                var list = new List<object?>();
                foreach (var item in v.Items) list.Add(FromJson(item));
                return list;
            default:
                var dict = new SortedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var p in v.Properties) dict[p.Key] = FromJson(p.Value);
                return dict;
        }
    }

    private static bool IsInteger(string text)
    {
        int start = text.StartsWith("-", StringComparison.Ordinal) ? 1 : 0;
        if (text.Length == start) return false;
        for (int i = start; i < text.Length; i++) if (text[i] < '0' || text[i] > '9') return false;
        return true;
    }

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                return;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                if (double.IsNaN(d)) sb.Append("NaN");
                else if (double.IsPositiveInfinity(d)) sb.Append("Infinity");
                else if (double.IsNegativeInfinity(d)) sb.Append("-Infinity");
                else sb.Append(PythonRepr.Float(d));
                return;
            case string s:
                WriteString(sb, s);
                return;
            case IReadOnlyDictionary<string, object?> dict:
                WriteDict(sb, dict, depth);
                return;
            case IReadOnlyList<object?> list:
                WriteList(sb, list, depth);
                return;
            default:
                throw new ArgumentException($"Cannot write a {value.GetType().Name} as JSON.", nameof(value));
        }
    }

    private static void WriteDict(StringBuilder sb, IReadOnlyDictionary<string, object?> dict, int depth)
    {
        if (dict.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        var keys = new List<string>(dict.Keys);
        keys.Sort(StringComparer.Ordinal);
        sb.Append('{');
        for (int i = 0; i < keys.Count; i++)
        {
            if (i > 0) sb.Append(',');
            NewLine(sb, depth + 1);
            WriteString(sb, keys[i]);
            sb.Append(": ");
            Write(sb, dict[keys[i]], depth + 1);
        }
        NewLine(sb, depth);
        sb.Append('}');
    }

    private static void WriteList(StringBuilder sb, IReadOnlyList<object?> list, int depth)
    {
        if (list.Count == 0)
        {
            sb.Append("[]");
            return;
        }
        sb.Append('[');
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0) sb.Append(',');
            NewLine(sb, depth + 1);
            Write(sb, list[i], depth + 1);
        }
        NewLine(sb, depth);
        sb.Append(']');
    }

    private static void NewLine(StringBuilder sb, int depth) => sb.Append('\n').Append(' ', 2 * depth);

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
