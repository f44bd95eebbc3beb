using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Core;
using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// The CLIP BPE tokenizer of a diffusers <c>tokenizer/</c> or <c>tokenizer_2/</c> folder, equal to transformers'
/// CLIPTokenizer: <see cref="ClipTextNormalizer"/> (NFC, whitespace collapse, lowercase), the special tokens
/// <c>&lt;|startoftext|&gt;</c>/<c>&lt;|endoftext|&gt;</c> recognised in the text, <see cref="ClipPreTokenizer"/>,
/// then byte-level BPE with the <c>&lt;/w&gt;</c> end-of-word suffix done by Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>. The pad token is the one the folder declares (<c>tokenizer_config.json</c>, then
/// <c>special_tokens_map.json</c>), <c>&lt;|endoftext|&gt;</c> when neither exists.
/// </summary>
public sealed class ClipTokenizer
{
    private const string DefaultBos = "<|startoftext|>";
    private const string DefaultEos = "<|endoftext|>";
    private readonly BpeTokenizer _bpe;
    private readonly IReadOnlyDictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _reverse;
    private readonly (string Text, int Id)[] _specialTokens;

    private ClipTokenizer(BpeTokenizer bpe, string bosToken, string eosToken, string padToken, string unkToken, int modelMaxLength, string source)
    {
        _bpe = bpe;
        _vocab = bpe.Vocabulary;
        _reverse = _vocab.ToDictionary(p => p.Value, p => p.Key);
        BosToken = bosToken;
        EosToken = eosToken;
        PadToken = padToken;
        BosTokenId = IdOf(bosToken, source, "bos_token");
        EosTokenId = IdOf(eosToken, source, "eos_token");
        PadTokenId = IdOf(padToken, source, "pad_token");
        ModelMaxLength = modelMaxLength;
        // Every declared special token is split out of the text (transformers registers them as added tokens), so
        // with tokenizer_2's pad token "!" an exclamation mark in a prompt becomes id 0, exactly as in CLIPTokenizer.
        _specialTokens = new[] { bosToken, eosToken, padToken, unkToken }
            .Distinct(StringComparer.Ordinal)
            .Where(t => _vocab.ContainsKey(t))
            .Select(t => (t, _vocab[t]))
            .ToArray();
    }

    /// <summary>The beginning-of-text token.</summary>
    public string BosToken { get; }

    /// <summary>The end-of-text token.</summary>
    public string EosToken { get; }

    /// <summary>The padding token.</summary>
    public string PadToken { get; }

    /// <summary>Id of <see cref="BosToken"/>.</summary>
    public int BosTokenId { get; }

    /// <summary>Id of <see cref="EosToken"/>.</summary>
    public int EosTokenId { get; }

    /// <summary>Id of <see cref="PadToken"/> (49407 for SDXL's <c>tokenizer/</c>, 0 for <c>tokenizer_2/</c>).</summary>
    public int PadTokenId { get; }

    /// <summary>The padded length (<c>model_max_length</c>, 77 when the folder does not say).</summary>
    public int ModelMaxLength { get; }

    /// <summary>Vocabulary size.</summary>
    public int VocabSize => _vocab.Count;

    /// <summary>
    /// Loads a tokenizer folder: <c>vocab.json</c> and <c>merges.txt</c> are required; <c>tokenizer_config.json</c>
    /// and <c>special_tokens_map.json</c> are optional.
    /// </summary>
    /// <exception cref="ModelLoadException">Missing files or an invalid config.</exception>
    public static ClipTokenizer FromFolder(string folder)
    {
        string vocabPath = Path.Combine(folder, "vocab.json");
        string mergesPath = Path.Combine(folder, "merges.txt");
        if (!Directory.Exists(folder))
            throw new ModelLoadException(ModelLoadErrorKind.MissingFile, folder, null, "tokenizer folder not found");
        foreach (var p in new[] { vocabPath, mergesPath })
            if (!File.Exists(p)) throw new ModelLoadException(ModelLoadErrorKind.MissingFile, p, null, "file not found");

        ConfigFile? config = TryLoad(Path.Combine(folder, "tokenizer_config.json"));
        ConfigFile? special = TryLoad(Path.Combine(folder, "special_tokens_map.json"));
        string bos = TokenText(config, special, "bos_token") ?? DefaultBos;
        string eos = TokenText(config, special, "eos_token") ?? DefaultEos;
        string pad = TokenText(config, special, "pad_token") ?? DefaultEos;
        string unk = TokenText(config, special, "unk_token") ?? DefaultEos;
        int maxLength = 77;
        if (config?.Get("model_max_length") is { Kind: JsonValueKind.Number } m && m.TryGetInt64(out long ml) && ml > 0 && ml < 1_000_000)
            maxLength = (int)ml;

        BpeTokenizer bpe;
        try
        {
            var options = new BpeOptions(ReadVocabulary(vocabPath))
            {
                Merges = ReadMerges(mergesPath),
                EndOfWordSuffix = "</w>",
                ByteLevel = true,
                UnknownToken = null,
            };
            bpe = BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, folder, null, "cannot build the BPE tokenizer: " + e.Message, e);
        }
        return new ClipTokenizer(bpe, bos, eos, pad, unk, maxLength, folder);
    }

    /// <summary>BOS + the prompt's token ids + EOS, without truncation or padding (<c>tokenizer(prompt).input_ids</c>).</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int> { BosTokenId };
        ids.AddRange(EncodeContent(text));
        ids.Add(EosTokenId);
        return ids;
    }

    /// <summary>
    /// <c>tokenizer(prompt, padding="max_length", max_length=L, truncation=True)</c>: content truncated to L − 2
    /// tokens, wrapped in BOS/EOS and padded with <see cref="PadTokenId"/> to L (default <see cref="ModelMaxLength"/>).
    /// </summary>
    public ClipTokenization Tokenize(string text, int? maxLength = null)
    {
        int length = maxLength ?? ModelMaxLength;
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), "must be at least 2");
        var content = EncodeContent(text);
        var unpadded = new List<int>(content.Count + 2) { BosTokenId };
        unpadded.AddRange(content);
        unpadded.Add(EosTokenId);
        var ids = new List<int>(length) { BosTokenId };
        ids.AddRange(content.Take(length - 2));
        ids.Add(EosTokenId);
        var mask = Enumerable.Repeat(1, ids.Count).ToList();
        while (ids.Count < length)
        {
            ids.Add(PadTokenId);
            mask.Add(0);
        }
        return new ClipTokenization(ids, mask, unpadded);
    }

    /// <summary>Tokenizes and returns a (1, L) int64 tensor of the padded ids.</summary>
    public Tensor TokenizeToTensor(string text, int? maxLength = null)
    {
        var t = Tokenize(text, maxLength);
        return tensor(t.InputIds.Select(i => (long)i).ToArray(), new long[] { 1, t.InputIds.Count });
    }

    /// <summary>
    /// The text of token ids, like transformers' <c>CLIPTokenizer.decode</c> without skipping special tokens or
    /// cleaning up spaces: the byte-level symbols are mapped back to bytes, decoded as UTF-8 (invalid sequences become
    /// U+FFFD, <c>errors="replace"</c>), every <c>&lt;/w&gt;</c> becomes a space, and the result is trimmed.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var symbols = new System.Text.StringBuilder();
        foreach (int id in ids) symbols.Append(IdToToken(id));
        var bytes = new List<byte>(symbols.Length);
        foreach (char c in symbols.ToString())
        {
            if (ByteLevelAlphabet.TryGetByte(c, out byte b)) bytes.Add(b);
            else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(c.ToString()));
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray()).Replace("</w>", " ").Trim();
    }

    /// <summary>The vocabulary string of an id (byte-level symbols, e.g. <c>bears&lt;/w&gt;</c>).</summary>
    public string IdToToken(int id) => _reverse.TryGetValue(id, out var s) ? s : throw new ArgumentOutOfRangeException(nameof(id));

    /// <summary>The token ids of the prompt content (no BOS/EOS).</summary>
    public List<int> EncodeContent(string text)
    {
        string normalized = ClipTextNormalizer.Normalize(text);
        var ids = new List<int>();
        int start = 0;
        while (start <= normalized.Length)
        {
            // Leftmost-longest match among the special tokens (as the added-token matcher of HF tokenizers).
            int next = -1, nextId = 0, nextLength = 0;
            foreach (var (special, id) in _specialTokens)
            {
                int at = normalized.IndexOf(special, start, StringComparison.Ordinal);
                if (at >= 0 && (next < 0 || at < next || (at == next && special.Length > nextLength)))
                {
                    next = at;
                    nextId = id;
                    nextLength = special.Length;
                }
            }
            string segment = next < 0 ? normalized.Substring(start) : normalized.Substring(start, next - start);
            foreach (var piece in ClipPreTokenizer.Split(segment))
                ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
            if (next < 0) break;
            ids.Add(nextId);
            start = next + nextLength;
        }
        return ids;
    }

    private int IdOf(string token, string source, string role) =>
        _vocab.TryGetValue(token, out int id) ? id
            : throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, source, role, $"token '{token}' is not in vocab.json");

    private static ConfigFile? TryLoad(string path) => File.Exists(path) ? ConfigFile.Load(path) : null;

    private static string? TokenText(ConfigFile? config, ConfigFile? special, string key)
    {
        foreach (var file in new[] { config, special })
        {
            var v = file?.Get(key);
            if (v is null) continue;
            if (v.Kind == JsonValueKind.String) return v.AsString();
            if (v.Kind == JsonValueKind.Object && v["content"] is { Kind: JsonValueKind.String } content) return content.AsString();
            throw file!.InvalidValue(key, "expected a string or an AddedToken object with 'content'");
        }
        return null;
    }

    private static Dictionary<string, int> ReadVocabulary(string path)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(File.ReadAllText(path));
        }
        catch (JsonParseException e)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "invalid JSON: " + e.Message, e);
        }
        if (root.Kind != JsonValueKind.Object)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "vocab.json must be an object of token → id");
        var vocab = new Dictionary<string, int>(root.Properties.Count, StringComparer.Ordinal);
        foreach (var p in root.Properties)
        {
            if (!p.Value.TryGetInt64(out long id) || id < 0 || id > int.MaxValue)
                throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, p.Key, "the id must be a non-negative integer");
            vocab[p.Key] = (int)id;
        }
        return vocab;
    }

    private static List<string> ReadMerges(string path)
    {
        var merges = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            merges.Add(line);
        }
        return merges;
    }
}
