using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LoraSdk.Core;

/// <summary>
/// Python's <c>repr</c> of floats, strings and sets of strings, so that messages and JSON match what diffusers
/// writes (e.g. <c>1.0</c>, <c>1e-05</c>, <c>{'a'}</c>).
/// </summary>
internal static class PythonRepr
{
    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, fixed notation for 1e-4 ≤ |x| &lt; 1e16.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (value == 0) return (1 / value) < 0 ? "-0.0" : "0.0";
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(new[] { 'E', 'e' });
        string mantissa = e >= 0 ? r.Substring(0, e) : r;
        int exp10 = e >= 0 ? int.Parse(r.Substring(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa.Substring(0, dot) : mantissa;
        string fracPart = dot >= 0 ? mantissa.Substring(dot + 1) : "";
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - digits.Length;
        // value = 0.DIGITS × 10^decpt
        int decpt = intPart.Length + exp10 - leadingZeros;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var sb = new StringBuilder();
        if (value < 0) sb.Append('-');
        if (decpt <= -4 || decpt > 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            int x = decpt - 1;
            sb.Append('e').Append(x < 0 ? '-' : '+').Append(Math.Abs(x).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decpt <= 0)
        {
            sb.Append("0.").Append('0', -decpt).Append(digits);
        }
        else if (decpt >= digits.Length)
        {
            sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, digits.Length - decpt);
        }
        return sb.ToString();
    }

    /// <summary>Python's <c>repr(str)</c> for printable text: single quotes unless the text contains one.</summary>
    public static string String(string value)
    {
        char quote = value.IndexOf('\'') >= 0 && value.IndexOf('"') < 0 ? '"' : '\'';
        var sb = new StringBuilder();
        sb.Append(quote);
        foreach (char c in value)
        {
            if (c == quote || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        sb.Append(quote);
        return sb.ToString();
    }

    /// <summary>Python's <c>repr(set_of_str)</c>; elements in ordinal order (Python's order is hash-dependent).</summary>
    public static string StringSet(IEnumerable<string> values)
    {
        var list = new List<string>(values);
        list.Sort(StringComparer.Ordinal);
        if (list.Count == 0) return "set()";
        var sb = new StringBuilder("{");
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(String(list[i]));
        }
        return sb.Append('}').ToString();
    }
}
