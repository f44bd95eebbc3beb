using System;
using System.IO;
using System.Text;
using LoraSdk.Core;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>Tells a tokenizer folder's family from its files, as transformers' AutoTokenizer does from the config first.</summary>
internal static class TokenizerKinds
{
    /// <summary>
    /// <c>tokenizer_config.json</c>'s <c>tokenizer_class</c> when it names CLIP or T5; otherwise vocab.json + merges.txt
    /// (CLIP), spiece.model (T5), or a tokenizer.json whose model is Unigram (T5) or BPE (CLIP, which needs
    /// vocab.json + merges.txt).
    /// </summary>
    /// <exception cref="CliFailure">Nothing in the folder identifies a CLIP or T5 tokenizer.</exception>
    public static TokenizerKind Detect(string folder)
    {
        string config = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(config))
        {
            JsonValue? json = null;
            try
            {
                json = JsonValue.Parse(File.ReadAllText(config, Encoding.UTF8));
            }
            catch (LoraSdkException)
            {
                // A malformed config is reported by the tokenizer itself; the files below still tell the kind.
            }
            if (json is { Kind: JsonValueKind.Object } && json["tokenizer_class"] is { Kind: JsonValueKind.String } cls)
            {
                string name = cls.AsString();
                if (name.StartsWith("CLIPTokenizer", StringComparison.Ordinal)) return TokenizerKind.Clip;
                if (name.StartsWith("T5Tokenizer", StringComparison.Ordinal)) return TokenizerKind.T5;
            }
        }
        if (File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt"))) return TokenizerKind.Clip;
        if (File.Exists(Path.Combine(folder, "spiece.model"))) return TokenizerKind.T5;
        string tokenizerJson = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            using var reader = new StreamReader(tokenizerJson, Encoding.UTF8);
            var head = new char[1 << 20];
            int n = reader.ReadBlock(head, 0, head.Length);
            string text = new string(head, 0, n);
            if (text.Contains("\"Unigram\"", StringComparison.Ordinal)) return TokenizerKind.T5;
            if (text.Contains("\"BPE\"", StringComparison.Ordinal))
                throw new CliFailure($"--tokenizer {folder}: a BPE tokenizer.json alone is not read; a CLIP folder needs vocab.json and merges.txt");
        }
        throw new CliFailure($"--tokenizer {folder}: no CLIP (vocab.json + merges.txt) or T5 (spiece.model, Unigram tokenizer.json) tokenizer files found");
    }
}
