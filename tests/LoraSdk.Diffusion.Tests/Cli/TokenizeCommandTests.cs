using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Cli.Commands;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// <c>lorasdk tokenize</c>: the JSON contract, pad styles per folder, CLIP and T5 folders told apart and tokenized as the
/// pipelines call them (ids equal transformers' for the 30 prompts of tests/fixtures-flux), usage and failure exit codes.
/// </summary>
public sealed class TokenizeCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = TokenizeCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("clip-tokenizer", 49407)]
    [InlineData("tokenizer", 49407)]
    [InlineData("tokenizer_2", 0)]
    public void JsonHas77PaddedIdsMaskAndUnpaddedIds(string folder, int padId)
    {
        string path = folder == "clip-tokenizer" ? Path.Combine(RepoPaths.Fixtures, folder) : Path.Combine(RepoPaths.TinySdxlPrompt, folder);
        var (code, output, err) = Run("--tokenizer", path, "--prompt", "a photo of a cat", "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var json = JsonValue.Parse(output);
        Assert.Equal(new[] { "input_ids", "attention_mask", "input_ids_unpadded" }, json.Properties.Select(p => p.Key).ToArray());
        var ids = json["input_ids"]!.Items.Select(v => v.AsInt64()).ToArray();
        Assert.Equal(77, ids.Length);
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 320, 2368, 49407 }, ids.Take(7).ToArray());
        Assert.All(ids.Skip(7), id => Assert.Equal(padId, id));
        Assert.Equal(Enumerable.Repeat(1L, 7).Concat(Enumerable.Repeat(0L, 70)).ToArray(), json["attention_mask"]!.Items.Select(v => v.AsInt64()).ToArray());
        Assert.Equal(ids.Take(7).ToArray(), json["input_ids_unpadded"]!.Items.Select(v => v.AsInt64()).ToArray());
    }

    [Fact]
    public void LongPromptsAreTruncatedButUnpaddedIdsAreComplete()
    {
        string prompt = string.Join(", ", Enumerable.Repeat("masterpiece, best quality", 20));
        var (code, output, _) = Run("--tokenizer", Path.Combine(RepoPaths.Fixtures, "clip-tokenizer"), "--prompt", prompt, "--json");
        Assert.Equal(0, code);
        var json = JsonValue.Parse(output);
        var ids = json["input_ids"]!.Items.Select(v => v.AsInt64()).ToArray();
        Assert.Equal(77, ids.Length);
        Assert.Equal(49407, ids[76]);
        Assert.True(json["input_ids_unpadded"]!.Items.Count > 77);
    }

    [Fact]
    public void MissingOptionIsAUsageError()
    {
        var (code, _, err) = Run("--prompt", "x");
        Assert.Equal(2, code);
        Assert.Contains("--tokenizer", err);
    }

    [Fact]
    public void MissingFolderIsAOneLineFailure()
    {
        var (code, _, err) = Run("--tokenizer", "/nonexistent/tokenizer", "--prompt", "x", "--json");
        Assert.Equal(1, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("/nonexistent/tokenizer", err);
    }

    public static IEnumerable<object[]> FluxPrompts() =>
        Enumerable.Range(0, GoldenSet.Flux.Node("tokenization", "prompts").Items.Count).Select(i => new object[] { i });

    private static JsonValue FluxPrompt(int index) => GoldenSet.Flux.Node("tokenization", "prompts").Items[index];

    private static long[] Longs(JsonValue json, string key) => json[key]!.Items.Select(v => v.AsInt64()).ToArray();

    [Theory]
    [MemberData(nameof(FluxPrompts))]
    public void T5FolderIdsEqualTransformersAsFluxCallsIt(int index)
    {
        var p = FluxPrompt(index);
        var (code, output, err) = Run("--tokenizer", Path.Combine(RepoPaths.TinyFlux, "tokenizer_2"), "--prompt", p["prompt"]!.AsString(), "--max-length", "32", "--json");
        Assert.True(code == 0, err);
        var json = JsonValue.Parse(output);
        Assert.Equal(Longs(p, "t5_input_ids"), Longs(json, "input_ids"));
        Assert.Equal(Longs(p, "t5_attention_mask"), Longs(json, "attention_mask"));
        Assert.Equal(Longs(p, "t5_input_ids_untruncated"), Longs(json, "input_ids_unpadded"));
    }

    [Theory]
    [MemberData(nameof(FluxPrompts))]
    public void ClipFolderIdsEqualTransformers(int index)
    {
        var p = FluxPrompt(index);
        var (code, output, err) = Run("--tokenizer", Path.Combine(RepoPaths.TinyFlux, "tokenizer"), "--prompt", p["prompt"]!.AsString(), "--json");
        Assert.True(code == 0, err);
        var json = JsonValue.Parse(output);
        Assert.Equal(Longs(p, "clip_input_ids"), Longs(json, "input_ids"));
        Assert.Equal(Longs(p, "clip_input_ids_untruncated"), Longs(json, "input_ids_unpadded"));
    }

    [Fact]
    public void T5PadsToItsModelMaxLengthByDefaultAndFromSpieceModelAlone()
    {
        var p = FluxPrompt(0);
        using var temp = new TempFolder();
        // Only spiece.model + tokenizer_config.json: still T5 (the config names it, and spiece.model alone would too).
        foreach (var keep in new[] { new[] { "spiece.model", "tokenizer_config.json" }, new[] { "spiece.model" } })
        {
            string folder = Path.Combine(temp.Path, string.Join("+", keep));
            Directory.CreateDirectory(folder);
            foreach (var name in keep) File.Copy(Path.Combine(RepoPaths.TinyFlux, "tokenizer_2", name), Path.Combine(folder, name));
            var (code, output, err) = Run("--tokenizer", folder, "--prompt", p["prompt"]!.AsString(), "--json");
            Assert.True(code == 0, err);
            var ids = Longs(JsonValue.Parse(output), "input_ids");
            Assert.Equal(512, ids.Length);
            var unpadded = Longs(p, "t5_input_ids_untruncated");
            Assert.Equal(unpadded, ids.Take(unpadded.Length));
            Assert.All(ids.Skip(unpadded.Length), id => Assert.Equal(0, id));
        }
    }

    [Fact]
    public void TableNamesTheKindAndThePieces()
    {
        var (code, output, _) = Run("--tokenizer", Path.Combine(RepoPaths.TinyFlux, "tokenizer_2"), "--prompt", "a photo", "--max-length", "8");
        Assert.Equal(0, code);
        var lines = output.Split('\n');
        Assert.StartsWith("T5 tokens (", lines[0]);
        Assert.Contains("padded to 8 with id 0", lines[0]);
        Assert.EndsWith("</s>(1)", lines[1].Trim());
        var clip = Run("--tokenizer", Path.Combine(RepoPaths.Fixtures, "clip-tokenizer"), "--prompt", "a photo", "--max-length", "8");
        Assert.StartsWith("CLIP tokens (4 incl. BOS/EOS, padded to 8 with id 49407):", clip.Out);
    }

    [Fact]
    public void MaxLengthTooShortForClipIsAUsageError()
    {
        var (code, output, err) = Run("--tokenizer", Path.Combine(RepoPaths.Fixtures, "clip-tokenizer"), "--prompt", "x", "--max-length", "1");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("--max-length must be at least 2 for a CLIP tokenizer", err.Split('\n')[0]);
        var zero = Run("--tokenizer", Path.Combine(RepoPaths.TinyFlux, "tokenizer_2"), "--prompt", "x", "--max-length", "0");
        Assert.Equal(2, zero.Code);
        Assert.Contains("--max-length must be an integer between 1 and", zero.Err);
    }

    [Fact]
    public void AFolderWithoutTokenizerFilesIsAOneLineFailure()
    {
        using var temp = new TempFolder();
        File.WriteAllText(Path.Combine(temp.Path, "notes.txt"), "nothing here");
        var (code, output, err) = Run("--tokenizer", temp.Path, "--prompt", "x", "--json");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("no CLIP (vocab.json + merges.txt) or T5 (spiece.model, Unigram tokenizer.json) tokenizer files found", Assert.Single(err.TrimEnd().Split('\n')));
    }
}
