using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Diffusion.Tokenization;
using LoraSdk.Core;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Tokenization;

/// <summary>Every prompt of <c>tokenizer_goldens.json</c> against transformers' CLIPTokenizer ids, both pad styles and truncation.</summary>
public sealed class ClipTokenizerGoldenTests
{
    private readonly ITestOutputHelper _output;

    public ClipTokenizerGoldenTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Cases()
    {
        var root = JsonValue.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "tokenizer_goldens.json")));
        for (int i = 0; i < root["cases"]!.Items.Count; i++) yield return new object[] { i };
    }

    private static JsonValue Case(int index) =>
        JsonValue.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "tokenizer_goldens.json")))["cases"]!.Items[index];

    private static int[] Ints(JsonValue v) => v.Items.Select(i => (int)i.AsInt64()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void VocabMergesOnlyFolderMatchesPaddedAndUnpaddedIds(int index)
    {
        var c = Case(index);
        string prompt = c["prompt"]!.AsString();
        var tok = TokenizerCache.ClipTokenizerFolder;
        var result = tok.Tokenize(prompt);
        Assert.Equal(Ints(c["input_ids_unpadded"]!), result.InputIdsUnpadded.ToArray());
        Assert.Equal(Ints(c["input_ids_padded"]!), result.InputIds.ToArray());
        Assert.Equal(Ints(c["attention_mask_padded"]!), result.AttentionMask.ToArray());
        _output.WriteLine($"{index}: {result.InputIdsUnpadded.Count} tokens");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SdxlTokenizerFoldersMatchBothPadStyles(int index)
    {
        var c = Case(index);
        string prompt = c["prompt"]!.AsString();
        Assert.Equal(Ints(c["input_ids_padded"]!), TokenizerCache.Tokenizer1.Tokenize(prompt).InputIds.ToArray());
        Assert.Equal(Ints(c["input_ids_padded_tokenizer_2_style"]!), TokenizerCache.Tokenizer2.Tokenize(prompt).InputIds.ToArray());
    }

    [Fact]
    public void TokenStringsMatchForAPromptWithBpeSplits()
    {
        var c = Case(0);
        var tok = TokenizerCache.ClipTokenizerFolder;
        var ids = tok.Encode(c["prompt"]!.AsString());
        Assert.Equal(c["tokens_unpadded"]!.Items.Select(i => i.AsString()).ToArray(), ids.Select(tok.IdToToken).ToArray());
    }

    [Fact]
    public void PadTokensComeFromTheFolders()
    {
        Assert.Equal(49407, TokenizerCache.ClipTokenizerFolder.PadTokenId);
        Assert.Equal(49407, TokenizerCache.Tokenizer1.PadTokenId);
        Assert.Equal(0, TokenizerCache.Tokenizer2.PadTokenId);
        Assert.Equal(77, TokenizerCache.Tokenizer2.ModelMaxLength);
        Assert.Equal((49406, 49407), (TokenizerCache.Tokenizer2.BosTokenId, TokenizerCache.Tokenizer2.EosTokenId));
    }

    [Fact]
    public void SpecialTokenTextInThePromptBecomesTheSpecialId()
    {
        var ids = TokenizerCache.Tokenizer1.Encode("a <|endoftext|> b");
        var plain = TokenizerCache.Tokenizer1.Encode("a b");
        Assert.Equal(new[] { plain[0], plain[1], 49407, plain[2], plain[3] }, ids.ToArray());
    }
}
