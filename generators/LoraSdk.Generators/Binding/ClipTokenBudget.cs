using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Generators.Binding;

/// <summary>
/// A lower bound of the CLIP token count of a text, without the tokenizer's vocabulary (which the generator cannot
/// read): CLIP first splits lower-cased text with the pattern
/// <c>'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+</c> and byte-pair-encodes each piece into at least one
/// token, so the number of pieces never exceeds the number of tokens. A prompt has 77 positions, 2 of them for the
/// start and end tokens.
/// </summary>
internal static class ClipTokenBudget
{
    /// <summary>Tokens available to a prompt's text (77 − start − end).</summary>
    public const int PromptTokens = 75;

    /// <summary>The number of pre-tokenizer pieces of <paramref name="text"/> (≤ its CLIP token count).</summary>
    public static int CountLowerBound(string text)
    {
        string s = text.ToLowerInvariant();
        int count = 0;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '\'' && TryContraction(s, i, out int length)) { count++; i += length; continue; }
            if (IsLetter(s, i)) { while (i < s.Length && IsLetter(s, i)) i += CharLength(s, i); count++; continue; }
            if (IsNumber(s, i)) { i += CharLength(s, i); count++; continue; }
            while (i < s.Length && !char.IsWhiteSpace(s[i]) && !IsLetter(s, i) && !IsNumber(s, i)) i += CharLength(s, i);
            count++;
        }
        return count;
    }

    /// <summary>The lower bound for trigger words joined the way <c>LoraAdapter.TriggerPrompt</c> joins them.</summary>
    public static int CountLowerBound(IReadOnlyList<string> triggerWords) => CountLowerBound(string.Join(", ", triggerWords));

    private static bool TryContraction(string s, int i, out int length)
    {
        foreach (var suffix in new[] { "re", "ve", "ll", "s", "t", "m", "d" })
        {
            if (string.CompareOrdinal(s, i + 1, suffix, 0, suffix.Length) == 0 && i + 1 + suffix.Length <= s.Length)
            {
                length = 1 + suffix.Length;
                return true;
            }
        }
        length = 0;
        return false;
    }

    private static int CharLength(string s, int i) => char.IsHighSurrogate(s[i]) && i + 1 < s.Length ? 2 : 1;

    private static bool IsLetter(string s, int i) => Category(s, i) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        _ => false,
    };

    private static bool IsNumber(string s, int i) => Category(s, i) switch
    {
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    private static UnicodeCategory Category(string s, int i) => CharUnicodeInfo.GetUnicodeCategory(s, i);
}
