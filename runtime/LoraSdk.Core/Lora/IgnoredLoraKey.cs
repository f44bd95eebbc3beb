namespace LoraSdk.Core;

/// <summary>
/// A key diffusers reads but drops without loading it (e.g. the non-block layers of a kohya Flux file, which its
/// conversion returns without the <c>transformer.</c> prefix, or T5 LoRA keys): reported, never loaded, so results
/// match diffusers.
/// </summary>
public sealed class IgnoredLoraKey
{
    /// <summary>Creates a report.</summary>
    public IgnoredLoraKey(string key, string reason)
    {
        Key = key;
        Reason = reason;
    }

    /// <summary>The key as written in the file.</summary>
    public string Key { get; }

    /// <summary>Why diffusers drops it.</summary>
    public string Reason { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Key}: {Reason}";
}
