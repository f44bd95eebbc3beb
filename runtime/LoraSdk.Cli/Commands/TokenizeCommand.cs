using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Cli.CommandLine;
using LoraSdk.Diffusion.Loading;
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
public static class TokenizeCommand
{
    /// <summary>Exit code: success.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: the tokenizer folder is missing or invalid.</summary>
    public const int ExitFailed = 1;

    /// <summary>Exit code: bad command line.</summary>
    public const int ExitUsage = 2;

    /// <summary>One-line usage.</summary>
    public const string Usage = "usage: lorasdk tokenize --tokenizer <folder> --prompt \"<text>\" [--json]";

    private static readonly string[] ValueOptions = { "--tokenizer", "--prompt" };
    private static readonly string[] FlagOptions = { "--json", "--help", "-h" };

    /// <summary>Runs with the process's standard streams. <paramref name="args"/> excludes the word <c>tokenize</c>.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command writing to the given streams; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ParsedArguments parsed;
        try
        {
            parsed = ParsedArguments.Parse(args, ValueOptions, FlagOptions);
            if (parsed.Has("--help") || parsed.Has("-h"))
            {
                stdout.WriteLine(Usage);
                return ExitOk;
            }
            if (parsed.Positionals.Count > 0) throw new CommandLineException($"unexpected argument '{parsed.Positionals[0]}'");
            if (parsed.Value("--tokenizer") is null) throw new CommandLineException("missing --tokenizer <folder>");
            if (parsed.Value("--prompt") is null) throw new CommandLineException("missing --prompt \"<text>\"");
        }
        catch (CommandLineException e)
        {
            stderr.WriteLine("lorasdk tokenize: " + e.Message);
            stderr.WriteLine(Usage);
            return ExitUsage;
        }

        ClipTokenizer tokenizer;
        try
        {
            tokenizer = ClipTokenizer.FromFolder(parsed.Value("--tokenizer")!);
        }
        catch (ModelLoadException e)
        {
            stderr.WriteLine("lorasdk tokenize: " + e.Message);
            return ExitFailed;
        }
        var result = tokenizer.Tokenize(parsed.Value("--prompt")!);
        if (parsed.Has("--json"))
        {
            stdout.WriteLine(ToJson(result));
            return ExitOk;
        }
        stdout.WriteLine($"tokens ({result.InputIdsUnpadded.Count} incl. BOS/EOS, padded to {result.InputIds.Count} with id {tokenizer.PadTokenId}):");
        stdout.WriteLine(string.Join(" ", result.InputIdsUnpadded.Select(id => $"{tokenizer.IdToToken(id)}({id})")));
        if (result.InputIdsUnpadded.Count > result.InputIds.Count)
            stdout.WriteLine($"truncated: {result.InputIdsUnpadded.Count - result.InputIds.Count} tokens do not fit in {result.InputIds.Count}");
        stdout.WriteLine("input_ids: " + string.Join(", ", result.InputIds));
        return ExitOk;
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
