using System.Collections.Generic;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// The byte-level BPE alphabet of GPT-2 and CLIP vocabularies: each of the 256 byte values is one printable character.
/// Bytes that are printable Latin-1 (<c>!</c>…<c>~</c>, <c>¡</c>…<c>¬</c>, <c>®</c>…<c>ÿ</c>) stand for themselves; the
/// other 68 bytes, in increasing order, take the characters U+0100, U+0101, … so that no symbol is whitespace or a
/// control character. Used to turn vocabulary strings back into text.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly Dictionary<char, byte> ByteOfSymbol = Build();

    /// <summary>The byte that <paramref name="symbol"/> stands for, when it is one of the 256 symbols.</summary>
    public static bool TryGetByte(char symbol, out byte value) => ByteOfSymbol.TryGetValue(symbol, out value);

    private static Dictionary<char, byte> Build()
    {
        var map = new Dictionary<char, byte>(256);
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char symbol = printable ? (char)b : (char)next++;
            map[symbol] = (byte)b;
        }
        return map;
    }
}
