using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LoraSdk.Core;

/// <summary>A small strict recursive-descent JSON parser that records line/column positions.</summary>
internal sealed class JsonParser
{
    private const int MaxDepth = 256;
    private readonly string _s;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    public JsonParser(string text) => _s = text ?? throw new ArgumentNullException(nameof(text));

    public JsonValue ParseDocument()
    {
        SkipWhitespace();
        var value = ParseValue(0);
        SkipWhitespace();
        if (_pos < _s.Length) throw Error("unexpected text after the JSON value");
        return value;
    }

    private JsonValue ParseValue(int depth)
    {
        if (depth > MaxDepth) throw Error("nesting deeper than " + MaxDepth.ToString(CultureInfo.InvariantCulture));
        if (_pos >= _s.Length) throw Error("unexpected end of text");
        int line = _line, col = _pos - _lineStart + 1, offset = _pos;
        char c = _s[_pos];
        switch (c)
        {
            case '{': return ParseObject(depth, line, col, offset);
            case '[': return ParseArray(depth, line, col, offset);
            case '"': return ParseStringValue(line, col, offset);
            case 't': Expect("true"); return new JsonValue(JsonValueKind.True, null, null, null, line, col, offset);
            case 'f': Expect("false"); return new JsonValue(JsonValueKind.False, null, null, null, line, col, offset);
            case 'n': Expect("null"); return new JsonValue(JsonValueKind.Null, null, null, null, line, col, offset);
            default:
                if (c == '-' || (c >= '0' && c <= '9'))
                {
                    int start = _pos;
                    SkipNumber();
                    return new JsonValue(JsonValueKind.Number, _s, start, _pos - start, line, col, offset);
                }
                throw Error($"unexpected character '{Printable(c)}'");
        }
    }

    private JsonValue ParseObject(int depth, int line, int col, int offset)
    {
        _pos++; // {
        var members = new List<KeyValuePair<string, JsonValue>>();
        HashSet<string>? seen = null; // small objects check duplicates by a linear scan
        const int LinearScanLimit = 8;
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            return new JsonValue(JsonValueKind.Object, null, null, members, line, col, offset);
        }
        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"') throw Error("expected a member name in double quotes");
            int nameLine = _line, nameCol = _pos - _lineStart + 1, nameOffset = _pos;
            string name = ParseString();
            bool duplicate;
            if (seen != null) duplicate = !seen.Add(name);
            else
            {
                duplicate = false;
                for (int i = 0; i < members.Count; i++)
                    if (string.Equals(members[i].Key, name, StringComparison.Ordinal)) { duplicate = true; break; }
                if (!duplicate && members.Count + 1 > LinearScanLimit)
                {
                    seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var m in members) seen.Add(m.Key);
                    seen.Add(name);
                }
            }
            if (duplicate)
                throw new JsonParseException($"duplicate member name \"{name}\"", nameLine, nameCol, nameOffset);
            SkipWhitespace();
            if (Peek() != ':') throw Error("expected ':' after a member name");
            _pos++;
            SkipWhitespace();
            members.Add(new KeyValuePair<string, JsonValue>(name, ParseValue(depth + 1)));
            SkipWhitespace();
            char c = Peek();
            if (c == ',') { _pos++; continue; }
            if (c == '}') { _pos++; break; }
            throw Error("expected ',' or '}' in an object");
        }
        return new JsonValue(JsonValueKind.Object, null, null, members, line, col, offset);
    }

    private JsonValue ParseArray(int depth, int line, int col, int offset)
    {
        _pos++; // [
        var items = new List<JsonValue>();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            return new JsonValue(JsonValueKind.Array, null, items, null, line, col, offset);
        }
        while (true)
        {
            SkipWhitespace();
            items.Add(ParseValue(depth + 1));
            SkipWhitespace();
            char c = Peek();
            if (c == ',') { _pos++; continue; }
            if (c == ']') { _pos++; break; }
            throw Error("expected ',' or ']' in an array");
        }
        return new JsonValue(JsonValueKind.Array, null, items, null, line, col, offset);
    }

    private JsonValue ParseStringValue(int line, int col, int offset)
    {
        // Scan ahead: a string without escapes becomes a slice of the source (no allocation until it is read).
        int start = _pos + 1;
        for (int i = start; i < _s.Length; i++)
        {
            char c = _s[i];
            if (c == '"')
            {
                _pos = i + 1;
                return new JsonValue(JsonValueKind.String, _s, start, i - start, line, col, offset);
            }
            if (c == '\\' || c < 0x20) break;
        }
        return new JsonValue(JsonValueKind.String, ParseString(), null, null, line, col, offset);
    }

    private string ParseString()
    {
        _pos++; // opening quote
        StringBuilder? sb = null;
        int runStart = _pos;
        while (true)
        {
            if (_pos >= _s.Length) throw Error("unterminated string");
            char c = _s[_pos];
            if (c == '"')
            {
                string result = sb == null ? _s.Substring(runStart, _pos - runStart) : sb.Append(_s, runStart, _pos - runStart).ToString();
                _pos++;
                return result;
            }
            if (c < 0x20) throw Error("control character in a string");
            if (c != '\\') { _pos++; continue; }
            sb ??= new StringBuilder();
            sb.Append(_s, runStart, _pos - runStart);
            _pos++;
            if (_pos >= _s.Length) throw Error("unterminated escape");
            char e = _s[_pos++];
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (_pos + 4 > _s.Length) throw Error("truncated \\u escape");
                    int code = 0;
                    for (int i = 0; i < 4; i++)
                    {
                        int h = HexValue(_s[_pos + i]);
                        if (h < 0) throw Error("invalid hex digit in \\u escape");
                        code = (code << 4) | h;
                    }
                    _pos += 4;
                    sb.Append((char)code);
                    break;
                default: _pos--; throw Error($"invalid escape '\\{Printable(e)}'");
            }
            runStart = _pos;
        }
    }

    private void SkipNumber()
    {
        if (Peek() == '-') _pos++;
        if (Peek() == '0') _pos++;
        else if (IsDigit(Peek())) while (IsDigit(Peek())) _pos++;
        else throw Error("invalid number");
        if (Peek() == '.')
        {
            _pos++;
            if (!IsDigit(Peek())) throw Error("digit expected after '.'");
            while (IsDigit(Peek())) _pos++;
        }
        if (Peek() == 'e' || Peek() == 'E')
        {
            _pos++;
            if (Peek() == '+' || Peek() == '-') _pos++;
            if (!IsDigit(Peek())) throw Error("digit expected in exponent");
            while (IsDigit(Peek())) _pos++;
        }
    }

    private void Expect(string literal)
    {
        if (string.CompareOrdinal(_s, _pos, literal, 0, literal.Length) != 0) throw Error($"expected '{literal}'");
        _pos += literal.Length;
    }

    private void SkipWhitespace()
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (c == '\n') { _pos++; _line++; _lineStart = _pos; }
            else if (c == ' ' || c == '\t' || c == '\r') _pos++;
            else break;
        }
    }

    private char Peek() => _pos < _s.Length ? _s[_pos] : '\0';

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static int HexValue(char c) =>
        c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

    private static string Printable(char c) => c < 0x20 || c > 0x7e ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString();

    private JsonParseException Error(string reason) => new JsonParseException(reason, _line, _pos - _lineStart + 1, _pos);
}
