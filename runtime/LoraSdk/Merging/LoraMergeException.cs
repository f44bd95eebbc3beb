using LoraSdk.Core;

namespace LoraSdk.Merging;

/// <summary>
/// A refused <c>add_weighted_adapter</c> merge. The message is PEFT's where PEFT has one (for example
/// <c>All adapters must have the same r value when using combination_type linear, ties, dare_ties or dare_linear.</c>);
/// errors about one layer start with the layer's name. A refused merge changes nothing.
/// </summary>
public sealed class LoraMergeException : LoraSdkException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">Why the merge was refused.</param>
    /// <param name="message">The message (PEFT's where PEFT has one).</param>
    /// <param name="layerName">The offending layer, if the error is about one.</param>
    /// <param name="parameterName">The <c>add_weighted_adapter</c> parameter at fault (<c>density</c>, <c>svd_rank</c>, ...), if any.</param>
    public LoraMergeException(LoraMergeErrorKind kind, string message, string? layerName = null, string? parameterName = null)
        : base(kind switch
        {
            LoraMergeErrorKind.RankMismatch or LoraMergeErrorKind.InvalidLayer => LoraSdkErrorCategory.Incompatible,
            LoraMergeErrorKind.InvalidAdapters => LoraSdkErrorCategory.NotFound,
            _ => LoraSdkErrorCategory.InvalidArgument,
        }, layerName == null ? message : $"{layerName}: {message}")
    {
        Kind = kind;
        LayerName = layerName;
        ParameterName = parameterName;
    }

    /// <summary>The <c>add_weighted_adapter</c> parameter at fault (PEFT's name, e.g. <c>density</c>), or null.</summary>
    public string? ParameterName { get; }

    /// <summary>Why the merge was refused.</summary>
    public LoraMergeErrorKind Kind { get; }

    /// <summary>The module path of the offending layer, or null when the error is not about one layer.</summary>
    public string? LayerName { get; }
}
