using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.CommandLine;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Diffusion.Tokenization;
using LoraSdk.Core;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk tokenize --tokenizer &lt;folder&gt; --prompt "&lt;text&gt;" [--json]</c>: tokenizes a prompt exactly like
/// transformers' CLIPTokenizer with <c>padding="max_length", truncation=True</c>. With <c>--json</c> it prints
/// <c>{"input_ids": [77 ids], "attention_mask": [77], "input_ids_unpadded": [...]}</c>; the padding id is the
/// folder's pad token (<c>&lt;|endoftext|&gt;</c> for a folder with only vocab.json + merges.txt). Exit codes: 0 ok,
/// 1 the tokenizer folder cannot be read, 2 usage error.
/// </summary>
internal sealed class TokenizeCommand : CliCommand
{
    private readonly Option<string> _tokenizer = new("--tokenizer")
    {
        Description = "A tokenizer folder with vocab.json and merges.txt (tokenizer_config.json and special_tokens_map.json optional), e.g. <model>/tokenizer.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _prompt = CliOptions.Text("--prompt", "The text to tokenize (may be empty).", required: true);

    private readonly Option<bool> _json = CliOptions.Json(
        "Print {\"input_ids\": [...], \"attention_mask\": [...], \"input_ids_unpadded\": [...]} on one line instead of a table.");

    /// <inheritdoc />
    public override string Name => "tokenize";

    /// <inheritdoc />
    public override string Description =>
        "Tokenize a prompt exactly like transformers' CLIPTokenizer with padding=\"max_length\", truncation=True (77 tokens for SDXL).";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "The padding id is the folder's pad token (<|endoftext|> when the folder has only vocab.json + merges.txt).",
        "Example: lorasdk tokenize --tokenizer models/tiny-sdxl-prompt/tokenizer --prompt \"a photo of a cat\" --json",
    };

    /// <summary>Runs <c>tokenize</c> with <paramref name="args"/> (without the word <c>tokenize</c>); for tests.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var all = new List<string> { "tokenize" };
        all.AddRange(args);
        return LorasdkCli.Run(all, new CliEnvironment(stdout, stderr));
    }

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        command.Options.Add(_tokenizer);
        command.Options.Add(_prompt);
        command.Options.Add(_json);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        string folder = context.Get(_tokenizer);
        CliPaths.RequireFolder(folder, "--tokenizer", "a tokenizer folder with vocab.json and merges.txt");
        var tokenizer = ClipTokenizer.FromFolder(folder);
        var result = tokenizer.Tokenize(context.Get(_prompt));
        var stdout = context.Output;
        if (context.Get(_json))
        {
            stdout.WriteLine(ToJson(result));
            return ExitCodes.Ok;
        }
        stdout.WriteLine($"tokens ({result.InputIdsUnpadded.Count} incl. BOS/EOS, padded to {result.InputIds.Count} with id {tokenizer.PadTokenId}):");
        stdout.WriteLine(string.Join(" ", result.InputIdsUnpadded.Select(id => $"{tokenizer.IdToToken(id)}({id})")));
        if (result.InputIdsUnpadded.Count > result.InputIds.Count)
            stdout.WriteLine($"truncated: {result.InputIdsUnpadded.Count - result.InputIds.Count} tokens do not fit in {result.InputIds.Count}");
        stdout.WriteLine("input_ids: " + string.Join(", ", result.InputIds));
        return ExitCodes.Ok;
    }

    /// <summary>The <c>--json</c> document (compact, one line).</summary>
    public static string ToJson(ClipTokenization result)
    {
        var w = new JsonWriter();
        w.StartObject();
        w.Name("input_ids").StartArray();
        foreach (var id in result.InputIds) w.Value(id);
        w.EndArray();
        w.Name("attention_mask").StartArray();
        foreach (var m in result.AttentionMask) w.Value(m);
        w.EndArray();
        w.Name("input_ids_unpadded").StartArray();
        foreach (var id in result.InputIdsUnpadded) w.Value(id);
        w.EndArray();
        w.EndObject();
        return w.ToString();
    }
}
