using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Emission;

/// <summary>An indenting source writer with C# literal and XML-doc helpers (invariant culture, '\n' line ends).</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new StringBuilder();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
        return this;
    }

    public void Indent(System.Action body)
    {
        _indent++;
        body();
        _indent--;
    }

    public void IndentBegin() => _indent++;

    public void IndentEnd() => _indent--;

    public CodeWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>Writes a <c>&lt;summary&gt;</c> (and optional bullet-list <c>&lt;remarks&gt;</c>); text is XML-escaped by the caller.</summary>
    public CodeWriter Doc(string summary, IReadOnlyList<string>? remarks = null)
    {
        Line("/// <summary>");
        foreach (var line in summary.Split('\n')) Line("/// " + line);
        Line("/// </summary>");
        if (remarks != null && remarks.Count > 0)
        {
            Line("/// <remarks>");
            Line("/// <list type=\"bullet\">");
            foreach (var item in remarks) Line("/// <item><description>" + item + "</description></item>");
            Line("/// </list>");
            Line("/// </remarks>");
        }
        return this;
    }

    public override string ToString() => _sb.ToString();

    // ---- literals ----

    public static string Str(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    public static string StrOrNull(string? value) => value == null ? "null" : Str(value);

    public static string Dbl(double value)
    {
        if (double.IsNaN(value)) return "double.NaN";
        if (double.IsPositiveInfinity(value)) return "double.PositiveInfinity";
        if (double.IsNegativeInfinity(value)) return "double.NegativeInfinity";
        return value.ToString("R", CultureInfo.InvariantCulture) + "d";
    }

    public static string DblOrNull(double? value) => value.HasValue ? Dbl(value.Value) : "null";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string IntOrNull(int? value) => value.HasValue ? Int(value.Value) : "null";

    public static string LongOrNull(long? value) => value.HasValue ? Int(value.Value) + "L" : "null";

    public static string Bool(bool value) => value ? "true" : "false";

    public static string StringArray(IEnumerable<string> values) =>
        "new string[] { " + string.Join(", ", values.Select(Str)) + " }";

    // ---- XML doc text ----

    /// <summary>XML-escapes a value for a doc comment and keeps it on one line.</summary>
    public static string Xml(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '\r':
                case '\n':
                case '\t': sb.Append(' '); break;
                default: sb.Append(char.IsControl(c) ? ' ' : c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A value in <c>&lt;c&gt;</c>.</summary>
    public static string C(string text) => "<c>" + Xml(text) + "</c>";

    /// <summary>A number for docs (round-trip, invariant).</summary>
    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
