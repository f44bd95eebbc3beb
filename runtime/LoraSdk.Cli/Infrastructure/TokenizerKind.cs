namespace LoraSdk.Cli.Infrastructure;

/// <summary>The tokenizer families <c>lorasdk tokenize</c> reads.</summary>
internal enum TokenizerKind
{
    /// <summary>CLIP's byte-level BPE (vocab.json + merges.txt).</summary>
    Clip,

    /// <summary>T5's SentencePiece unigram (spiece.model or a Unigram tokenizer.json).</summary>
    T5,
}
