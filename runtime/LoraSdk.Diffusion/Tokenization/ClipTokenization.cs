using System.Collections.Generic;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>The result of tokenizing one prompt the way CLIPTokenizer does with <c>padding="max_length"</c>.</summary>
/// <param name="InputIds">BOS + tokens + EOS, truncated to the maximum length and padded with the pad id.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
/// <param name="InputIdsUnpadded">BOS + tokens + EOS without truncation or padding.</param>
public sealed record ClipTokenization(IReadOnlyList<int> InputIds, IReadOnlyList<int> AttentionMask, IReadOnlyList<int> InputIdsUnpadded)
{
    /// <summary>True when the prompt had more tokens than fit (diffusers logs the truncated part).</summary>
    public bool WasTruncated => InputIdsUnpadded.Count > InputIds.Count
        || (InputIdsUnpadded.Count == InputIds.Count && !System.Linq.Enumerable.SequenceEqual(InputIds, InputIdsUnpadded) && AttentionMask[^1] == 1);
}
