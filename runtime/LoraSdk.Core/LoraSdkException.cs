using System;

namespace LoraSdk.Core;

/// <summary>
/// The base of every exception LoraSdk throws on purpose, so that a caller can catch one type. <see cref="Category"/>
/// says what kind of problem it is in terms a caller can act on; each subclass adds the details of its area (a file
/// and key, an adapter and layer, a merge parameter) and, where useful, a finer <c>Kind</c> of its own.
/// An operation that throws a <see cref="LoraSdkException"/> changed nothing.
/// </summary>
public abstract class LoraSdkException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected LoraSdkException(LoraSdkErrorCategory category, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Category = category;
    }

    /// <summary>What kind of problem this is.</summary>
    public LoraSdkErrorCategory Category { get; }
}

/// <summary>The kind of problem a <see cref="LoraSdkException"/> reports.</summary>
public enum LoraSdkErrorCategory
{
    /// <summary>A file (or the bytes given for one) is malformed: bad JSON, a bad safetensors header, an inconsistent LoRA file or model folder.</summary>
    InvalidFile,

    /// <summary>A file, folder, adapter, component or module that was named does not exist.</summary>
    NotFound,

    /// <summary>An argument is out of range or contradicts another argument.</summary>
    InvalidArgument,

    /// <summary>The call is not valid in the current state (for example enabling hotswap after the first load).</summary>
    InvalidOperation,

    /// <summary>Valid input that this SDK does not implement (a LoRA variant, a model class, a configuration option).</summary>
    Unsupported,

    /// <summary>Two valid things do not fit each other: shapes, ranks, base architectures, hotswap targets.</summary>
    Incompatible,

    /// <summary>Reading or writing a file failed at the operating-system level.</summary>
    IO,

    /// <summary>A native component is missing or failed (libtorch, CUDA, the graph-capture library).</summary>
    Native,
}
