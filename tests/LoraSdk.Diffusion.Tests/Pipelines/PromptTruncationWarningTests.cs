using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>
/// diffusers' truncation warning: a prompt longer than 77 tokens is cut, and the cut part is reported through
/// <see cref="StableDiffusionXLPipeline.Warning"/> with diffusers' wording (once per tokenizer, positive prompts only).
/// </summary>
public sealed class PromptTruncationWarningTests
{
    private const string Prefix = "The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ";

    private static List<string> Warnings(string prompt, string? negativePrompt = null)
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        var warnings = new List<string>();
        pipe.Warning += warnings.Add;
        pipe.EncodePrompt(prompt, negativePrompt: negativePrompt).Dispose();
        return warnings;
    }

    private static string Repeat(int pairs) => string.Join(" ", Enumerable.Repeat("a chair", pairs));

    [Fact]
    public void TheCutOffTokensAreQuotedOncePerTokenizer()
    {
        // 100 content tokens: 75 fit between BOS and EOS; diffusers quotes ids[76:-1] of the untruncated ids, i.e. the
        // content tokens 76..100, which start at a "chair" (every even position).
        string cut = string.Join(" ", Enumerable.Repeat("chair a", 12)) + " chair";
        var warnings = Warnings(Repeat(50));
        Assert.Equal(new[] { Prefix + "['" + cut + "']", Prefix + "['" + cut + "']" }, warnings);
    }

    [Fact]
    public void APromptThatFitsExactlyDoesNotWarnAndOneMoreTokenDoes()
    {
        Assert.Empty(Warnings(Repeat(37) + " a")); // 75 content tokens + BOS + EOS = 77
        Assert.Equal(Prefix + "['chair']", Warnings(Repeat(38))[0]); // 76 content tokens: the last one is cut
    }

    [Fact]
    public void ALongNegativePromptIsCutSilentlyAsInDiffusers()
    {
        Assert.Empty(Warnings("a chair", negativePrompt: Repeat(60)));
    }

    [Fact]
    public void NonAsciiTextDecodesBackFromTheByteLevelSymbols()
    {
        using var pipe = StableDiffusionXLPipeline.FromPretrained(RepoPaths.TinySdxlPrompt);
        var tokenizer = pipe.Tokenizer!;
        // CLIP lowercases, and the pre-tokenizer keeps "🐻," as one piece: only the case changes on the way back.
        Assert.Equal("naïve café 🐻, déjà vu", tokenizer.Decode(tokenizer.EncodeContent("Naïve café 🐻, déjà vu")));
        Assert.Equal("shing waves , moonlight", tokenizer.Decode(tokenizer.EncodeContent("shing waves , moonlight")));
        var warnings = new List<string>();
        pipe.Warning += warnings.Add;
        pipe.EncodePrompt(Repeat(37) + " a naïve 'café'").Dispose();
        // Python's repr of a str that holds a single quote uses double quotes.
        Assert.StartsWith(Prefix + "[\"naïve '", warnings[0]);
        Assert.EndsWith("'\"]", warnings[0]);
    }
}
