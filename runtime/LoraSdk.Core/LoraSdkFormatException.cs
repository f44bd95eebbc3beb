using System;

namespace LoraSdk.Core;

/// <summary>Base of every error the formats core raises for bad input (malformed JSON, headers, LoRA files).</summary>
public class LoraSdkFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LoraSdkFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public LoraSdkFormatException(string message, Exception inner) : base(message, inner) { }
}
