using System.Collections.Generic;
using LoraSdk.Core;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Parsing;

/// <summary>The manifest's text with a line index: turns JSON value positions into diagnostic locations.</summary>
internal sealed class ManifestText
{
    private readonly List<int> _lineStarts = new List<int> { 0 };

    public ManifestText(string path, string text)
    {
        Path = path;
        Text = text;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n') _lineStarts.Add(i + 1);
        }
    }

    public string Path { get; }

    public string Text { get; }

    /// <summary>The location of a JSON value: its whole token (strings, numbers, literals) or its first line (objects/arrays).</summary>
    public LocationInfo Of(JsonValue value) => At(value.Offset, MeasureValue(value.Offset));

    /// <summary>The location of <paramref name="length"/> characters from <paramref name="offset"/>.</summary>
    public LocationInfo At(int offset, int length)
    {
        if (offset < 0) offset = 0;
        if (offset > Text.Length) offset = Text.Length;
        if (offset + length > Text.Length) length = Text.Length - offset;
        var (startLine, startColumn) = Position(offset);
        var (endLine, endColumn) = Position(offset + length);
        return new LocationInfo(Path, offset, length, startLine, startColumn, endLine, endColumn);
    }

    private (int Line, int Column) Position(int offset)
    {
        int lo = 0, hi = _lineStarts.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
        }
        return (lo, offset - _lineStarts[lo]);
    }

    /// <summary>
    /// Length of the value starting at <paramref name="offset"/>: a string with its quotes, a number or literal; for
    /// an object or array, up to the end of its first line (a squiggle over a whole block helps nobody).
    /// </summary>
    private int MeasureValue(int offset)
    {
        if (offset >= Text.Length) return 0;
        char c = Text[offset];
        int i = offset;
        if (c == '"')
        {
            i++;
            while (i < Text.Length && Text[i] != '"' && Text[i] != '\n')
            {
                if (Text[i] == '\\') i++;
                i++;
            }
            return (i < Text.Length && Text[i] == '"' ? i + 1 : i) - offset;
        }
        if (c == '{' || c == '[')
        {
            int depth = 0;
            while (i < Text.Length)
            {
                char d = Text[i];
                if (d == '"')
                {
                    i++;
                    while (i < Text.Length && Text[i] != '"') { if (Text[i] == '\\') i++; i++; }
                }
                else if (d == '{' || d == '[') depth++;
                else if (d == '}' || d == ']')
                {
                    depth--;
                    if (depth == 0) return i + 1 - offset;
                }
                else if (d == '\n')
                {
                    int end = i > offset && Text[i - 1] == '\r' ? i - 1 : i;
                    return end - offset;
                }
                i++;
            }
            return i - offset;
        }
        while (i < Text.Length && !IsDelimiter(Text[i])) i++;
        return i - offset;
    }

    private static bool IsDelimiter(char c) => c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
