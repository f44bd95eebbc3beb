using System;
using System.IO;
using LoraSdk.Diffusion.Tokenization;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>Tokenizers of the fixture folders, built once per test run.</summary>
public static class TokenizerCache
{
    private static readonly Lazy<ClipTokenizer> Clip = new(() => ClipTokenizer.FromFolder(Path.Combine(RepoPaths.Fixtures, "clip-tokenizer")));
    private static readonly Lazy<ClipTokenizer> Tok1 = new(() => ClipTokenizer.FromFolder(Path.Combine(RepoPaths.TinySdxlPrompt, "tokenizer")));
    private static readonly Lazy<ClipTokenizer> Tok2 = new(() => ClipTokenizer.FromFolder(Path.Combine(RepoPaths.TinySdxlPrompt, "tokenizer_2")));

    /// <summary>tests/fixtures/clip-tokenizer (vocab.json + merges.txt only).</summary>
    public static ClipTokenizer ClipTokenizerFolder => Clip.Value;

    /// <summary>models/tiny-sdxl-prompt/tokenizer (pad <c>&lt;|endoftext|&gt;</c>).</summary>
    public static ClipTokenizer Tokenizer1 => Tok1.Value;

    /// <summary>models/tiny-sdxl-prompt/tokenizer_2 (pad <c>!</c>).</summary>
    public static ClipTokenizer Tokenizer2 => Tok2.Value;
}
