using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Loading;
using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// The T5 tokenizer of a diffusers <c>tokenizer_2/</c> folder (Flux), equal to transformers' T5TokenizerFast with
/// <c>legacy=True</c>: special tokens (<c>&lt;pad&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c>, the sentinels
/// <c>&lt;extra_id_N&gt;</c>, …) are matched in the raw text as single tokens (leftmost, longest); every other
/// segment is normalized with the model's precompiled charsmap (NFKC-style folding), split on whitespace, each word
/// prefixed with <c>▁</c> and segmented by the SentencePiece unigram model of Microsoft.ML.Tokenizers, consecutive
/// unknown pieces fused into one <c>&lt;unk&gt;</c> (as HF's Unigram does); <c>&lt;/s&gt;</c> is appended. Loads
/// <c>tokenizer.json</c> when the folder has one (what transformers prefers), else <c>spiece.model</c> with the
/// <c>extra_ids</c> sentinels appended after the pieces (<c>&lt;extra_id_0&gt;</c> gets the highest id).
/// </summary>
public sealed class T5Tokenizer
{
    private const string Metaspace = "\u2581";
    private readonly SentencePieceTokenizer _model;
    private readonly (string Text, int Id)[] _specialTokens;
    private readonly Dictionary<int, string> _idToToken;

    private T5Tokenizer(SentencePieceTokenizer model, IEnumerable<(string Text, int Id)> specialTokens, Dictionary<int, string> idToToken,
        int eosId, int padId, int unkId, int modelMaxLength, int vocabSize)
    {
        _model = model;
        _specialTokens = specialTokens.ToArray();
        _idToToken = idToToken;
        EosTokenId = eosId;
        PadTokenId = padId;
        UnkTokenId = unkId;
        ModelMaxLength = modelMaxLength;
        VocabSize = vocabSize;
    }

    /// <summary>Id of <c>&lt;/s&gt;</c>, appended to every sequence.</summary>
    public int EosTokenId { get; }

    /// <summary>Id of the padding token (<c>&lt;pad&gt;</c> = 0 for T5).</summary>
    public int PadTokenId { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>.</summary>
    public int UnkTokenId { get; }

    /// <summary><c>model_max_length</c> (512 for T5).</summary>
    public int ModelMaxLength { get; }

    /// <summary><c>len(tokenizer)</c>: pieces plus sentinels.</summary>
    public int VocabSize { get; }

    /// <summary>The special tokens recognised in the text, with their ids.</summary>
    public IReadOnlyList<(string Text, int Id)> SpecialTokens => _specialTokens;

    /// <summary>
    /// Loads a tokenizer folder: <c>tokenizer.json</c> (Unigram) or <c>spiece.model</c>, plus the optional
    /// <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c> for the special tokens and
    /// <c>model_max_length</c>.
    /// </summary>
    /// <exception cref="ModelLoadException">Missing files, an invalid or unsupported tokenizer.</exception>
    public static T5Tokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ModelLoadException(ModelLoadErrorKind.MissingFile, folder, null, "tokenizer folder not found");
        ConfigFile? config = TryLoad(Path.Combine(folder, "tokenizer_config.json"));
        ConfigFile? special = TryLoad(Path.Combine(folder, "special_tokens_map.json"));
        string eos = TokenText(config, special, "eos_token") ?? "</s>";
        string pad = TokenText(config, special, "pad_token") ?? "<pad>";
        string unk = TokenText(config, special, "unk_token") ?? "<unk>";
        int maxLength = 512;
        if (config?.Get("model_max_length") is { Kind: JsonValueKind.Number } m && m.TryGetInt64(out long ml) && ml > 0 && ml < 1_000_000)
            maxLength = (int)ml;

        string json = Path.Combine(folder, "tokenizer.json");
        string spiece = Path.Combine(folder, "spiece.model");
        if (File.Exists(json)) return FromTokenizerJson(json, config, special, eos, pad, unk, maxLength);
        if (File.Exists(spiece)) return FromSentencePiece(spiece, config, special, eos, pad, unk, maxLength);
        throw new ModelLoadException(ModelLoadErrorKind.MissingFile, folder, null, "no tokenizer.json or spiece.model found");
    }

    /// <summary>The prompt's token ids + <c>&lt;/s&gt;</c>, without truncation or padding (<c>tokenizer(prompt).input_ids</c>).</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var ids = EncodeContent(text);
        ids.Add(EosTokenId);
        return ids;
    }

    /// <summary>
    /// <c>tokenizer(prompt, padding="max_length", max_length=L, truncation=True)</c>: content truncated to L − 1
    /// tokens, <c>&lt;/s&gt;</c> appended, padded with <see cref="PadTokenId"/> to L (default <see cref="ModelMaxLength"/>).
    /// </summary>
    public T5Tokenization Tokenize(string text, int? maxLength = null)
    {
        int length = maxLength ?? ModelMaxLength;
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), "must be at least 1");
        var content = EncodeContent(text);
        var unpadded = new List<int>(content) { EosTokenId };
        var ids = content.Take(length - 1).ToList();
        ids.Add(EosTokenId);
        var mask = Enumerable.Repeat(1, ids.Count).ToList();
        while (ids.Count < length)
        {
            ids.Add(PadTokenId);
            mask.Add(0);
        }
        return new T5Tokenization(ids, mask, unpadded);
    }

    /// <summary>Tokenizes and returns a (1, L) int64 tensor of the padded ids.</summary>
    public Tensor TokenizeToTensor(string text, int? maxLength = null)
    {
        var t = Tokenize(text, maxLength);
        return tensor(t.InputIds.Select(i => (long)i).ToArray(), new long[] { 1, t.InputIds.Count });
    }

    /// <summary>The piece of an id (e.g. <c>▁photo</c>, <c>&lt;extra_id_0&gt;</c>).</summary>
    public string IdToToken(int id) => _idToToken.TryGetValue(id, out var s) ? s : throw new ArgumentOutOfRangeException(nameof(id));

    /// <summary>The token ids of the prompt content (no <c>&lt;/s&gt;</c>).</summary>
    public List<int> EncodeContent(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        int start = 0;
        while (true)
        {
            // Leftmost-longest match among the special tokens (HF tokenizers' added-token matcher on the raw text).
            int next = -1, nextId = 0, nextLength = 0;
            foreach (var (token, id) in _specialTokens)
            {
                int at = text.IndexOf(token, start, StringComparison.Ordinal);
                if (at >= 0 && (next < 0 || at < next || (at == next && token.Length > nextLength)))
                {
                    next = at;
                    nextId = id;
                    nextLength = token.Length;
                }
            }
            string segment = next < 0 ? text.Substring(start) : text.Substring(start, next - start);
            EncodeSegment(segment, ids);
            if (next < 0) break;
            ids.Add(nextId);
            start = next + nextLength;
        }
        return ids;
    }

    // One segment between special tokens. The unigram model prefixes every word with ▁, so a word's first piece is
    // always a known one ('▁' is a piece, checked at load) and fusing consecutive <unk> ids never crosses a word:
    // exactly HF's per-word fuse_unk.
    private void EncodeSegment(string segment, List<int> ids)
    {
        if (segment.Length == 0) return;
        bool previousUnknown = false;
        foreach (int id in _model.EncodeToIds(segment, false, false, true, true))
        {
            bool unknown = id == UnkTokenId;
            if (unknown && previousUnknown) continue;
            ids.Add(id);
            previousUnknown = unknown;
        }
    }

    private static T5Tokenizer FromTokenizerJson(string path, ConfigFile? config, ConfigFile? special, string eos, string pad, string unk, int maxLength)
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
        var model = root["model"];
        if (model?["type"] is not { Kind: JsonValueKind.String } type || type.AsString() != "Unigram")
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, path, "model.type", "only a Unigram (SentencePiece) T5 tokenizer is supported");
        CheckPrependScheme(root["pre_tokenizer"], path);
        if (model["vocab"] is not { Kind: JsonValueKind.Array } vocab)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, "model.vocab", "missing or not a list");
        var idToToken = new Dictionary<int, string>();
        for (int i = 0; i < vocab.Items.Count; i++)
        {
            if (vocab.Items[i] is not { Kind: JsonValueKind.Array } pair || pair.Items.Count < 1 || pair.Items[0].Kind != JsonValueKind.String)
                throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, "model.vocab", $"entry {i} is not a [piece, score] pair");
            idToToken[i] = pair.Items[0].AsString();
        }
        var specials = new List<(string, int)>();
        if (root["added_tokens"] is { Kind: JsonValueKind.Array } added)
            foreach (var t in added.Items)
                if (t["special"] is { Kind: JsonValueKind.True } && t["content"] is { Kind: JsonValueKind.String } c && t["id"] is { } idValue
                    && idValue.TryGetInt64(out long id))
                {
                    specials.Add((c.AsString(), (int)id));
                    idToToken[(int)id] = c.AsString();
                }

        SentencePieceTokenizer sp;
        try
        {
            using var stream = File.OpenRead(path);
            sp = SentencePieceTokenizer.CreateFromTokenizerJson(stream, false, false);
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "cannot build the SentencePiece tokenizer: " + e.Message, e);
        }
        return Build(sp, specials, idToToken, eos, pad, unk, maxLength, idToToken.Count, path);
    }

    private static T5Tokenizer FromSentencePiece(string path, ConfigFile? config, ConfigFile? special, string eos, string pad, string unk, int maxLength)
    {
        var file = SentencePieceModelFile.Read(path);
        if (file.ModelType != 1)
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, path, "model_type", $"SentencePiece model type {file.ModelType} is not a unigram model");
        var idToToken = new Dictionary<int, string>();
        for (int i = 0; i < file.Pieces.Count; i++) idToToken[i] = file.Pieces[i].Piece;
        var specials = new List<(string, int)>();
        var control = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < file.Pieces.Count; i++)
            if (file.Pieces[i].Type == SentencePieceModelFile.ControlType)
            {
                control[file.Pieces[i].Piece] = i;
                specials.Add((file.Pieces[i].Piece, i));
            }
        specials.Add((file.Pieces[file.UnkId].Piece, file.UnkId));
        int extraIds = config?.GetInt("extra_ids", 100) ?? 100;
        if (extraIds < 0) throw config!.InvalidValue("extra_ids", "must not be negative");
        for (int n = 0; n < extraIds; n++)
        {
            int id = file.Pieces.Count + extraIds - 1 - n;
            string sentinel = $"<extra_id_{n}>";
            specials.Add((sentinel, id));
            idToToken[id] = sentinel;
        }

        SentencePieceTokenizer sp;
        try
        {
            sp = SentencePieceTokenizer.Create(file.Pieces.Select(p => (p.Piece, p.Score)), file.UnkId, false, false,
                file.PrecompiledCharsmap, file.AddDummyPrefix, file.EscapeWhitespaces, file.TreatWhitespaceAsSuffix, file.ByteFallback, control);
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "cannot build the SentencePiece tokenizer: " + e.Message, e);
        }
        return Build(sp, specials, idToToken, eos, pad, unk, maxLength, file.Pieces.Count + extraIds, path);
    }

    private static T5Tokenizer Build(SentencePieceTokenizer sp, List<(string Text, int Id)> specials, Dictionary<int, string> idToToken,
        string eos, string pad, string unk, int maxLength, int vocabSize, string source)
    {
        if (!idToToken.ContainsValue(Metaspace))
            throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, source, null,
                "the vocabulary has no '\u2581' piece; unknown-piece fusion per word cannot be reproduced for it");
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (text, id) in specials) byText.TryAdd(text, id);
        int IdOf(string token, string role)
        {
            if (byText.TryGetValue(token, out int id)) return id;
            foreach (var (i, t) in idToToken) if (t == token) return i;
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, source, role, $"token '{token}' is not in the vocabulary");
        }
        int eosId = IdOf(eos, "eos_token"), padId = IdOf(pad, "pad_token"), unkId = IdOf(unk, "unk_token");
        foreach (var (token, id) in new[] { (eos, eosId), (pad, padId), (unk, unkId) }) byText.TryAdd(token, id);
        return new T5Tokenizer(sp, byText.Select(p => (p.Key, p.Value)), idToToken, eosId, padId, unkId, maxLength, vocabSize);
    }

    // legacy=True T5 tokenizers prefix every word (Metaspace prepend_scheme "always"); legacy=False ("first") is not
    // reproduced by this tokenizer and is refused rather than silently tokenized differently.
    private static void CheckPrependScheme(JsonValue? preTokenizer, string path)
    {
        if (preTokenizer is null) return;
        var steps = preTokenizer["type"] is { Kind: JsonValueKind.String } t && t.AsString() == "Sequence" && preTokenizer["pretokenizers"] is { Kind: JsonValueKind.Array } list
            ? list.Items
            : (IReadOnlyList<JsonValue>)new[] { preTokenizer };
        foreach (var step in steps)
            if (step["type"] is { Kind: JsonValueKind.String } st && st.AsString() == "Metaspace"
                && step["prepend_scheme"] is { Kind: JsonValueKind.String } scheme && scheme.AsString() != "always")
                throw new ModelLoadException(ModelLoadErrorKind.UnsupportedConfiguration, path, "pre_tokenizer.prepend_scheme",
                    $"Metaspace prepend_scheme '{scheme.AsString()}' (legacy=False) is not supported; only 'always' (legacy=True)");
    }

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
}
