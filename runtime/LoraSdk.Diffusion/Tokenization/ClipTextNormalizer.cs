using System.Globalization;
using System.Text;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// The normalizer of Hugging Face's CLIP tokenizer: Unicode NFC, every run of whitespace replaced by one space, then
/// Unicode lowercase (full mapping: U+0130 becomes "i\u0307", capital sigma becomes final sigma at the end of a
/// word, as Rust's <c>str::to_lowercase</c>). Whitespace is the Unicode White_Space property.
/// </summary>
public static class ClipTextNormalizer
{
    /// <summary>Normalizes <paramref name="text"/>.</summary>
    public static string Normalize(string text)
    {
        string nfc = text.Normalize(NormalizationForm.FormC);
        var collapsed = new StringBuilder(nfc.Length);
        bool inSpace = false;
        foreach (Rune r in nfc.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(r))
            {
                if (!inSpace) collapsed.Append(' ');
                inSpace = true;
                continue;
            }
            inSpace = false;
            collapsed.Append(r.ToString());
        }
        return Lowercase(collapsed.ToString());
    }

    private static string Lowercase(string text)
    {
        var runes = new System.Collections.Generic.List<Rune>();
        foreach (Rune r in text.EnumerateRunes()) runes.Add(r);
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < runes.Count; i++)
        {
            Rune r = runes[i];
            if (r.Value == 0x0130)
            {
                sb.Append("i\u0307");
            }
            else if (r.Value == 0x03A3)
            {
                sb.Append(IsFinalSigma(runes, i) ? '\u03C2' : '\u03C3');
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }
        }
        return sb.ToString();
    }

    // Unicode Final_Sigma: preceded by a cased letter (skipping case-ignorable) and not followed by one.
    private static bool IsFinalSigma(System.Collections.Generic.List<Rune> runes, int index)
    {
        bool before = false;
        for (int j = index - 1; j >= 0; j--)
        {
            if (IsCaseIgnorable(runes[j])) continue;
            before = IsCased(runes[j]);
            break;
        }
        if (!before) return false;
        for (int j = index + 1; j < runes.Count; j++)
        {
            if (IsCaseIgnorable(runes[j])) continue;
            return !IsCased(runes[j]);
        }
        return true;
    }

    private static bool IsCased(Rune r)
    {
        var c = Rune.GetUnicodeCategory(r);
        return c is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;
    }

    private static bool IsCaseIgnorable(Rune r)
    {
        var c = Rune.GetUnicodeCategory(r);
        return c is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
            || r.Value is '\'' or '.' or ':' or '^' or '`' or 0x00B7 or 0x2019;
    }
}
