namespace LoraSdk.Gpu;

/// <summary>
/// CUDA's stream-capture mode (<c>cudaStreamCaptureMode</c>, PyTorch's <c>capture_error_mode</c>): which threads'
/// potentially unsafe CUDA calls (a <c>cudaMalloc</c>, a synchronisation) invalidate the capture instead of running.
/// </summary>
public enum CudaGraphCaptureMode
{
    /// <summary>Unsafe calls from any thread are refused while the capture runs (PyTorch's default, the safest).</summary>
    Global = 0,

    /// <summary>Only the capturing thread's unsafe calls are refused.</summary>
    ThreadLocal = 1,

    /// <summary>Nothing is refused; for experts who know their other threads' calls are harmless.</summary>
    Relaxed = 2,
}
