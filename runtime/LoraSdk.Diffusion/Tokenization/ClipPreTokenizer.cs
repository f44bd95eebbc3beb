using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// CLIP's pre-tokenizer: the pieces matched by
/// <c>'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c> (non-matching text, i.e. whitespace, is
/// dropped). Implemented as a scanner over Unicode scalar values so characters outside the BMP are classified by
/// their real category (a .NET regex would see two surrogates).
/// </summary>
public static class ClipPreTokenizer
{
    private static readonly string[] Contractions = { "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };

    /// <summary>Splits normalized text into pre-tokens.</summary>
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            string? contraction = MatchContraction(text, i);
            if (contraction != null)
            {
                pieces.Add(contraction);
                i += contraction.Length;
                continue;
            }
            Rune r = Rune.GetRuneAt(text, i);
            var kind = Classify(r);
            if (kind == Kind.Space)
            {
                i += r.Utf16SequenceLength;
                continue;
            }
            if (kind == Kind.Number)
            {
                pieces.Add(r.ToString());
                i += r.Utf16SequenceLength;
                continue;
            }
            int start = i;
            i += r.Utf16SequenceLength;
            while (i < text.Length)
            {
                Rune next = Rune.GetRuneAt(text, i);
                if (Classify(next) != kind) break;
                i += next.Utf16SequenceLength;
            }
            pieces.Add(text.Substring(start, i - start));
        }
        return pieces;
    }

    private static string? MatchContraction(string text, int i)
    {
        if (text[i] != '\'') return null;
        foreach (var c in Contractions)
            if (string.CompareOrdinal(text, i, c, 0, c.Length) == 0) return c;
        return null;
    }

    private enum Kind { Letter, Number, Space, Other }

    private static Kind Classify(Rune r)
    {
        if (Rune.IsWhiteSpace(r)) return Kind.Space;
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return Kind.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return Kind.Number;
            default:
                return Kind.Other;
        }
    }
}
