using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Diffusion.Tokenization;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>
/// The 30 prompts of tests/fixtures-flux goldens.json → <c>tokenization</c>: the T5 tokenizer (padded/truncated to 32
/// as FluxPipeline calls it, and untruncated, ids and pieces) loaded from <c>tokenizer.json</c> and from
/// <c>spiece.model</c> + <c>tokenizer_config.json</c> alone, and the tiny CLIP tokenizer (padded to 77 and
/// untruncated). Token ids are exact.
/// </summary>
public sealed class FluxTokenizerGoldenTests
{
    private static readonly string T5Folder = Path.Combine(RepoPaths.TinyFlux, "tokenizer_2");

    public static IEnumerable<object[]> Prompts() =>
        Enumerable.Range(0, GoldenSet.Flux.Node("tokenization", "prompts").Items.Count).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Prompts))]
    public void T5FromTokenizerJsonMatchesTransformers(int index) => AssertT5(T5Tokenizer.FromFolder(T5Folder), index);

    [Theory]
    [MemberData(nameof(Prompts))]
    public void T5FromSpieceModelMatchesTransformers(int index)
    {
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "tokenizer_2");
        Directory.CreateDirectory(folder);
        foreach (var name in new[] { "spiece.model", "tokenizer_config.json" })
            File.Copy(Path.Combine(T5Folder, name), Path.Combine(folder, name));
        AssertT5(T5Tokenizer.FromFolder(folder), index);
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public void TinyClipTokenizerMatchesTransformers(int index)
    {
        var p = Prompt(index);
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(RepoPaths.TinyFlux, "tokenizer"));
        var t = tokenizer.Tokenize(p["prompt"]!.AsString(), 77);
        Assert.Equal(Ints(p, "clip_input_ids"), t.InputIds);
        Assert.Equal(Ints(p, "clip_input_ids_untruncated"), t.InputIdsUnpadded);
    }

    [Fact]
    public void T5SpecialIdsAndSizesAreT5s()
    {
        var tok = T5Tokenizer.FromFolder(T5Folder);
        var g = GoldenSet.Flux.Node("tokenizers", "t5");
        Assert.Equal(g["len"]!.AsInt64(), tok.VocabSize);
        Assert.Equal(g["eos_token_id"]!.AsInt64(), tok.EosTokenId);
        Assert.Equal(g["pad_token_id"]!.AsInt64(), tok.PadTokenId);
        Assert.Equal(g["unk_token_id"]!.AsInt64(), tok.UnkTokenId);
        Assert.Equal(g["model_max_length"]!.AsInt64(), tok.ModelMaxLength);
        Assert.Equal("<extra_id_0>", tok.IdToToken((int)g["extra_id_0"]!.AsInt64()));
        Assert.Equal("<extra_id_99>", tok.IdToToken((int)g["extra_id_99"]!.AsInt64()));
    }

    private static void AssertT5(T5Tokenizer tokenizer, int index)
    {
        var p = Prompt(index);
        string prompt = p["prompt"]!.AsString();
        var t = tokenizer.Tokenize(prompt, 32);
        Assert.Equal(Ints(p, "t5_input_ids"), t.InputIds);
        Assert.Equal(Ints(p, "t5_attention_mask"), t.AttentionMask);
        Assert.Equal(Ints(p, "t5_input_ids_untruncated"), t.InputIdsUnpadded);
        Assert.Equal(p["t5_truncated"]!.AsBool(), t.WasTruncated);
        var pieces = p["t5_tokens_untruncated"]!.Items.Select(i => i.AsString()).ToList();
        Assert.Equal(pieces, t.InputIdsUnpadded.Select(tokenizer.IdToToken).ToList());
    }

    private static JsonValue Prompt(int index) => GoldenSet.Flux.Node("tokenization", "prompts").Items[index];

    private static List<int> Ints(JsonValue p, string key) => p[key]!.Items.Select(i => (int)i.AsInt64()).ToList();
}
