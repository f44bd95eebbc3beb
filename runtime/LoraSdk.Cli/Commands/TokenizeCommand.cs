using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.CommandLine;
using System.Text;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Diffusion.Tokenization;
using LoraSdk.Core;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk tokenize --tokenizer &lt;folder&gt; --prompt "&lt;text&gt;" [--max-length N] [--json]</c>: tokenizes a
/// prompt exactly as the pipelines call their tokenizers, <c>tokenizer(prompt, padding="max_length", max_length=N,
/// truncation=True)</c>, for CLIP (BPE, transformers' CLIPTokenizer) and T5 (SentencePiece unigram, T5TokenizerFast)
/// folders alike; the kind is told from the folder (<see cref="TokenizerKinds.Detect"/>). With <c>--json</c> it prints
/// <c>{"input_ids": [N ids], "attention_mask": [N], "input_ids_unpadded": [...]}</c>. Exit codes: 0 ok, 1 the tokenizer
/// folder cannot be read, 2 usage error.
/// </summary>
internal sealed class TokenizeCommand : CliCommand
{
    private readonly Option<string> _tokenizer = new("--tokenizer")
    {
        Description = "A tokenizer folder: CLIP (vocab.json + merges.txt, e.g. <model>/tokenizer) or T5 (spiece.model or a Unigram tokenizer.json, " +
                      "e.g. <flux model>/tokenizer_2); tokenizer_config.json and special_tokens_map.json are read when present.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _prompt = CliOptions.Text("--prompt", "The text to tokenize (may be empty).", required: true);

    private readonly Option<int?> _maxLength = CliOptions.Int("--max-length", "N",
        "Pad or truncate to N tokens (default: the tokenizer's model_max_length: 77 for CLIP, 512 for T5; Flux pipelines pass max_sequence_length to T5).",
        1, 1 << 20);

    private readonly Option<bool> _json = CliOptions.Json(
        "Print {\"input_ids\": [...], \"attention_mask\": [...], \"input_ids_unpadded\": [...]} on one line instead of a table.");

    /// <inheritdoc />
    public override string Name => "tokenize";

    /// <inheritdoc />
    public override string Description =>
        "Tokenize a prompt exactly like transformers' CLIP or T5 tokenizer with padding=\"max_length\", truncation=True, as the pipelines call them.";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "The folder's tokenizer_config.json tokenizer_class decides CLIP or T5; without it, vocab.json + merges.txt mean CLIP and spiece.model (or a Unigram tokenizer.json) T5.",
        "CLIP pads with the folder's pad token (<|endoftext|> when the folder has only vocab.json + merges.txt); T5 appends </s> and pads with <pad>.",
        "Example: lorasdk tokenize --tokenizer models/tiny-sdxl-prompt/tokenizer --prompt \"a photo of a cat\" --json",
        "         lorasdk tokenize --tokenizer tests/fixtures-flux/tiny-flux/tokenizer_2 --prompt \"a photo of a cat\" --max-length 32 --json",
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
        command.Options.Add(_maxLength);
        command.Options.Add(_json);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        string folder = context.Get(_tokenizer);
        CliPaths.RequireFolder(folder, "--tokenizer", "a CLIP (vocab.json + merges.txt) or T5 (spiece.model / tokenizer.json) tokenizer folder");
        int? maxLength = context.Parse.GetValue(_maxLength);
        string prompt = context.Get(_prompt);
        var kind = TokenizerKinds.Detect(folder);

        IReadOnlyList<int> ids, mask, unpadded;
        Func<int, string> token;
        int padId;
        if (kind == TokenizerKind.Clip)
        {
            if (maxLength < 2) throw new UsageException($"--max-length must be at least 2 for a CLIP tokenizer (<|startoftext|> and <|endoftext|>), not {maxLength}");
            var tokenizer = ClipTokenizer.FromFolder(folder);
            var result = tokenizer.Tokenize(prompt, maxLength);
            (ids, mask, unpadded, token, padId) = (result.InputIds, result.AttentionMask, result.InputIdsUnpadded, tokenizer.IdToToken, tokenizer.PadTokenId);
        }
        else
        {
            var tokenizer = T5Tokenizer.FromFolder(folder);
            var result = tokenizer.Tokenize(prompt, maxLength);
            (ids, mask, unpadded, token, padId) = (result.InputIds, result.AttentionMask, result.InputIdsUnpadded, tokenizer.IdToToken, tokenizer.PadTokenId);
        }

        var stdout = context.Output;
        if (context.Get(_json))
        {
            stdout.WriteLine(ToJson(ids, mask, unpadded));
            return ExitCodes.Ok;
        }
        string ends = kind == TokenizerKind.Clip ? "incl. BOS/EOS" : "incl. </s>";
        stdout.WriteLine($"{(kind == TokenizerKind.Clip ? "CLIP" : "T5")} tokens ({unpadded.Count} {ends}, padded to {ids.Count} with id {padId}):");
        stdout.WriteLine(string.Join(" ", unpadded.Select(id => $"{token(id)}({id})")));
        if (unpadded.Count > ids.Count)
            stdout.WriteLine($"truncated: {unpadded.Count - ids.Count} tokens do not fit in {ids.Count}");
        stdout.WriteLine("input_ids: " + string.Join(", ", ids));
        return ExitCodes.Ok;
    }

    /// <summary>The <c>--json</c> document of a CLIP tokenization (compact, one line).</summary>
    public static string ToJson(ClipTokenization result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ToJson(result.InputIds, result.AttentionMask, result.InputIdsUnpadded);
    }

    /// <summary>The <c>--json</c> document (compact, one line).</summary>
    public static string ToJson(IReadOnlyList<int> inputIds, IReadOnlyList<int> attentionMask, IReadOnlyList<int> inputIdsUnpadded)
    {
        var w = new JsonWriter();
        w.StartObject();
        w.Name("input_ids").StartArray();
        foreach (var id in inputIds) w.Value(id);
        w.EndArray();
        w.Name("attention_mask").StartArray();
        foreach (var m in attentionMask) w.Value(m);
        w.EndArray();
        w.Name("input_ids_unpadded").StartArray();
        foreach (var id in inputIdsUnpadded) w.Value(id);
        w.EndArray();
        w.EndObject();
        return w.ToString();
    }
}
