using System;
using LoraSdk.Core;

namespace LoraSdk.Gpu;

/// <summary>
/// A failed CUDA-graph operation: the native library is missing or does not match the loaded libtorch, CUDA is not
/// available, an argument does not fit, a call came in the wrong state, or the capture itself failed. A failed
/// operation leaves the graph as it was before the call (a failed capture leaves no capture behind).
/// </summary>
public sealed class CudaGraphException : LoraSdkException
{
    /// <summary>Creates the exception.</summary>
    public CudaGraphException(CudaGraphErrorKind kind, string message, Exception? innerException = null)
        : base(CategoryOf(kind), message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Why the operation failed.</summary>
    public CudaGraphErrorKind Kind { get; }

    private static LoraSdkErrorCategory CategoryOf(CudaGraphErrorKind kind) => kind switch
    {
        CudaGraphErrorKind.CudaUnavailable or CudaGraphErrorKind.NotCudaDevice => LoraSdkErrorCategory.Unsupported,
        CudaGraphErrorKind.InvalidArgument => LoraSdkErrorCategory.InvalidArgument,
        CudaGraphErrorKind.CaptureInsideCapture or CudaGraphErrorKind.NotCaptured or CudaGraphErrorKind.InvalidDuringCapture
            or CudaGraphErrorKind.Disposed => LoraSdkErrorCategory.InvalidOperation,
        _ => LoraSdkErrorCategory.Native,
    };
}
