namespace LoraSdk.Gpu;

/// <summary>Why a <see cref="CudaGraph"/> operation failed.</summary>
public enum CudaGraphErrorKind
{
    /// <summary>The native graph library (<c>liblorasdk_cuda_graph.so</c> / <c>lorasdk_cuda_graph.dll</c>) was not found.</summary>
    NativeLibraryMissing,

    /// <summary>The native graph library exists but the operating system could not load it (a missing libtorch or CUDA library, a wrong architecture).</summary>
    NativeLibraryLoadFailed,

    /// <summary>The native graph library does not speak this wrapper's C ABI, or reads TorchSharp's tensor handles differently.</summary>
    NativeAbiMismatch,

    /// <summary>The native graph library was built against another libtorch version than the one loaded in this process.</summary>
    TorchVersionMismatch,

    /// <summary>CUDA is not available to libtorch in this process (CPU-only natives, no GPU or driver).</summary>
    CudaUnavailable,

    /// <summary>A tensor or device is not a CUDA one (graphs capture CUDA work only).</summary>
    NotCudaDevice,

    /// <summary>An argument is null, disposed, or does not fit (another device, another shape or dtype).</summary>
    InvalidArgument,

    /// <summary>A capture was started while another capture was under way.</summary>
    CaptureInsideCapture,

    /// <summary>A replay or a graph query while no graph is captured (before the capture or after <see cref="CudaGraph.Reset"/>).</summary>
    NotCaptured,

    /// <summary>An operation that a running capture forbids (replaying, resetting or recapturing a graph inside a capture).</summary>
    InvalidDuringCapture,

    /// <summary>The graph was disposed.</summary>
    Disposed,

    /// <summary>The captured function failed, or the capture was invalidated (a host synchronisation, a CPU copy, another stream).</summary>
    CaptureFailed,

    /// <summary>A native graph call failed (its message is libtorch's or CUDA's).</summary>
    NativeCallFailed,
}
