using System.IO;
using System.Linq;
using LoraSdk.Cli.Commands;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary><c>lorasdk tokenize</c>: the JSON contract, pad styles per folder, usage and failure exit codes.</summary>
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
}
