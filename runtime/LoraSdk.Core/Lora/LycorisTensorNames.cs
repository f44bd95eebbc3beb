using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// The LyCORIS LoHa / LoKr tensor names (the key suffix after the module name, in kohya files and in LoraSdk's saved
/// form) and their roles: the one table the key canonicalizer, the file model and the engine's save use.
/// </summary>
internal static class LycorisTensorNames
{
    /// <summary>Suffix, role and variant of every LoHa and LoKr tensor.</summary>
    public static readonly IReadOnlyList<(string Suffix, LoraTensorRole Role, string Variant)> All = new[]
    {
        ("hada_w1_a", LoraTensorRole.HadaW1A, LoraVariants.LoHa),
        ("hada_w1_b", LoraTensorRole.HadaW1B, LoraVariants.LoHa),
        ("hada_w2_a", LoraTensorRole.HadaW2A, LoraVariants.LoHa),
        ("hada_w2_b", LoraTensorRole.HadaW2B, LoraVariants.LoHa),
        ("hada_t1", LoraTensorRole.HadaT1, LoraVariants.LoHa),
        ("hada_t2", LoraTensorRole.HadaT2, LoraVariants.LoHa),
        ("lokr_w1", LoraTensorRole.LokrW1, LoraVariants.LoKr),
        ("lokr_w1_a", LoraTensorRole.LokrW1A, LoraVariants.LoKr),
        ("lokr_w1_b", LoraTensorRole.LokrW1B, LoraVariants.LoKr),
        ("lokr_w2", LoraTensorRole.LokrW2, LoraVariants.LoKr),
        ("lokr_w2_a", LoraTensorRole.LokrW2A, LoraVariants.LoKr),
        ("lokr_w2_b", LoraTensorRole.LokrW2B, LoraVariants.LoKr),
        ("lokr_t2", LoraTensorRole.LokrT2, LoraVariants.LoKr),
    };

    /// <summary>The key suffix of a LoHa/LoKr role (<c>hada_w1_a</c>, …), or null for other roles.</summary>
    public static string? SuffixOf(LoraTensorRole role)
    {
        foreach (var e in All) if (e.Role == role) return e.Suffix;
        return null;
    }

    /// <summary>The LyCORIS variant a role belongs to (<see cref="LoraVariants.LoHa"/>, <see cref="LoraVariants.LoKr"/>), or null.</summary>
    public static string? VariantOf(LoraTensorRole role)
    {
        foreach (var e in All) if (e.Role == role) return e.Variant;
        return null;
    }
}
