using System;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// A pipeline or model could not be saved. The message names the folder (or model) and the reason; nothing was
/// written to the target folder (saves go to a temporary folder that replaces the target only when complete).
/// </summary>
public sealed class ModelSaveException : LoraSdkException
{
    /// <summary>Creates the exception; the message is <c>"&lt;path&gt;: &lt;reason&gt;"</c>.</summary>
    public ModelSaveException(ModelSaveErrorKind kind, string path, string reason, Exception? inner = null)
        : base(kind switch
        {
            ModelSaveErrorKind.InvalidOption => LoraSdkErrorCategory.InvalidArgument,
            ModelSaveErrorKind.AdaptersLoaded => LoraSdkErrorCategory.InvalidOperation,
            ModelSaveErrorKind.Unsupported => LoraSdkErrorCategory.Unsupported,
            _ => LoraSdkErrorCategory.IO,
        }, $"{path}: {reason}", inner)
    {
        Kind = kind;
        Path = path;
        Reason = reason;
    }

    /// <summary>What went wrong.</summary>
    public ModelSaveErrorKind Kind { get; }

    /// <summary>The target folder (or the model) concerned.</summary>
    public string Path { get; }

    /// <summary>The reason without the path.</summary>
    public string Reason { get; }
}
