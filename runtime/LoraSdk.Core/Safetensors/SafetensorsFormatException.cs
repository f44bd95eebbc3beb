using System;

namespace LoraSdk.Core;

/// <summary>A safetensors file was rejected; <see cref="Kind"/> says why, the message names the file.</summary>
public sealed class SafetensorsFormatException : LoraSdkFormatException
{
    /// <summary>Creates the exception; the message is <c>"&lt;source&gt;: &lt;reason&gt;"</c>.</summary>
    public SafetensorsFormatException(SafetensorsErrorKind kind, string sourceName, string reason, Exception? inner = null)
        : base($"{sourceName}: {reason}", inner ?? new Exception(reason))
    {
        Kind = kind;
        SourceName = sourceName;
        Reason = reason;
    }

    /// <summary>The category of the problem.</summary>
    public SafetensorsErrorKind Kind { get; }

    /// <summary>The file (or stream name) that was read.</summary>
    public string SourceName { get; }

    /// <summary>The reason without the file name.</summary>
    public string Reason { get; }
}
