using System;

namespace LoraSdk.Core;

/// <summary>Base of every error the formats core raises for bad input (malformed JSON, headers, LoRA files).</summary>
public class LoraSdkFormatException : LoraSdkException
{
    /// <summary>Creates the exception.</summary>
    public LoraSdkFormatException(string message) : base(LoraSdkErrorCategory.InvalidFile, message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public LoraSdkFormatException(string message, Exception inner) : base(LoraSdkErrorCategory.InvalidFile, message, inner) { }
}
