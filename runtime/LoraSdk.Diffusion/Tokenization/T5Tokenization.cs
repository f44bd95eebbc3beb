using System.Collections.Generic;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>The result of tokenizing one prompt the way T5TokenizerFast does with <c>padding="max_length"</c>, <c>truncation=True</c>.</summary>
/// <param name="InputIds">Tokens + <c>&lt;/s&gt;</c>, truncated to the maximum length and padded with the pad id.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
/// <param name="InputIdsUnpadded">Tokens + <c>&lt;/s&gt;</c> without truncation or padding (<c>tokenizer(prompt).input_ids</c>).</param>
public sealed record T5Tokenization(IReadOnlyList<int> InputIds, IReadOnlyList<int> AttentionMask, IReadOnlyList<int> InputIdsUnpadded)
{
    /// <summary>True when the prompt had more tokens than fit (diffusers logs the truncated part).</summary>
    public bool WasTruncated => InputIdsUnpadded.Count > InputIds.Count;
}
