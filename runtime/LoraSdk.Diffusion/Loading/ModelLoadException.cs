using System;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// A diffusers pipeline folder, component config or weight file could not be loaded. The message names the file
/// (and the weight key or config entry when there is one) and the reason; the model being loaded is left unchanged.
/// </summary>
public sealed class ModelLoadException : LoraSdkException
{
    /// <summary>Creates the exception; the message is <c>"&lt;file&gt;: [key: ]&lt;reason&gt;"</c>.</summary>
    public ModelLoadException(ModelLoadErrorKind kind, string filePath, string? key, string reason, Exception? inner = null)
        : base(kind switch
        {
            ModelLoadErrorKind.MissingFile or ModelLoadErrorKind.MissingWeight => LoraSdkErrorCategory.NotFound,
            ModelLoadErrorKind.UnsupportedConfiguration or ModelLoadErrorKind.UnsupportedFileFormat
                or ModelLoadErrorKind.UnsupportedDType => LoraSdkErrorCategory.Unsupported,
            _ => LoraSdkErrorCategory.InvalidFile,
        }, FormatMessage(filePath, key, reason), inner)
    {
        Kind = kind;
        FilePath = filePath;
        Key = key;
        Reason = reason;
    }

    /// <summary>What went wrong.</summary>
    public ModelLoadErrorKind Kind { get; }

    /// <summary>The file (or folder) concerned.</summary>
    public string FilePath { get; }

    /// <summary>The weight key or config entry concerned, if any.</summary>
    public string? Key { get; }

    /// <summary>The reason without the file and key.</summary>
    public string Reason { get; }

    private static string FormatMessage(string filePath, string? key, string reason) =>
        key is null ? $"{filePath}: {reason}" : $"{filePath}: '{key}': {reason}";
}
