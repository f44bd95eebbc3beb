using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

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

    /// <summary>
    /// The one C# string-literal encoder: every value from a manifest or a sidecar reaches generated code through it.
    /// Printable text stays readable; quotes, backslashes and every character that could end the literal or the line,
    /// or that would not survive a UTF-8 round trip or a reviewer's eye, become escapes: C0/C1 controls, the Unicode
    /// line terminators (U+0085, U+2028, U+2029), format characters (bidi overrides, zero-width, BOM), other
    /// whitespace, unassigned and non-characters, and lone surrogates (a valid surrogate pair stays as is).
    /// </summary>
    public static string Str(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\0': sb.Append("\\0"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }
            int kept = KeptLength(value, i);
            if (kept == 0) AppendUnicodeEscape(sb, c);
            else sb.Append(value, i, kept);
            i += kept == 2 ? 1 : 0;
        }
        return sb.Append('"').ToString();
    }

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

    /// <summary>Doc text shows at most this many characters of one value (the literal keeps all of them).</summary>
    public const int MaxDocChars = 200;

    /// <summary>
    /// The one XML-doc text encoder: every value from a manifest or a sidecar reaches a doc comment through it. XML
    /// markup characters become entities; every character that would end the <c>///</c> line, is not allowed in XML
    /// (controls, lone surrogates, non-characters) or hides itself (format characters, unusual whitespace) is shown as
    /// its C# escape (<c>\n</c>, <c>\u2028</c>), so the comment stays one well-formed line per value. Values longer
    /// than <see cref="MaxDocChars"/> are shortened (<c>… (N characters)</c>).
    /// </summary>
    public static string Xml(string text)
    {
        int limit = text.Length;
        if (limit > MaxDocChars)
        {
            limit = MaxDocChars;
            if (char.IsHighSurrogate(text[limit - 1])) limit--;
        }
        var sb = new StringBuilder(limit + 24);
        for (int i = 0; i < limit; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); continue;
                case '<': sb.Append("&lt;"); continue;
                case '>': sb.Append("&gt;"); continue;
                case '\0': sb.Append("\\0"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }
            int kept = KeptLength(text, i);
            if (kept == 0) AppendUnicodeEscape(sb, c);
            else sb.Append(text, i, kept);
            i += kept == 2 ? 1 : 0;
        }
        if (limit < text.Length) sb.Append("… (").Append(Int(text.Length)).Append(" characters)");
        return sb.ToString();
    }

    /// <summary>
    /// How many UTF-16 units at <paramref name="i"/> may appear as themselves in a literal or doc line: 1 for a
    /// visible character or a space, 2 for a valid surrogate pair, 0 when it must be escaped.
    /// </summary>
    private static int KeptLength(string s, int i)
    {
        char c = s[i];
        if (c >= ' ' && c <= '~') return 1;
        if (char.IsHighSurrogate(c)) return i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 0;
        switch (CharUnicodeInfo.GetUnicodeCategory(c))
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.Format:
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
            case UnicodeCategory.SpaceSeparator:
            case UnicodeCategory.Surrogate:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                return 0;
            default:
                return 1;
        }
    }

    private static void AppendUnicodeEscape(StringBuilder sb, char c) =>
        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));

    /// <summary>A value in <c>&lt;c&gt;</c>.</summary>
    public static string C(string text) => "<c>" + Xml(text) + "</c>";

    /// <summary>A number for docs (round-trip, invariant).</summary>
    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
