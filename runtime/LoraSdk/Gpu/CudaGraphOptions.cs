using TorchSharp;

namespace LoraSdk.Gpu;

/// <summary>How a <see cref="CudaGraph"/> is captured.</summary>
public sealed class CudaGraphOptions
{
    /// <summary>
    /// How often the function runs eagerly on the capture stream before the capture (default 3, as PyTorch's
    /// examples): the first runs initialise what must not happen during a capture (cuBLAS workspaces, cuDNN plans,
    /// lazily built LoRA caches, kernel autotuning). 0 when the caller has already run it.
    /// </summary>
    public int WarmupRuns { get; init; } = 3;

    /// <summary>The stream-capture mode (default <see cref="CudaGraphCaptureMode.Global"/>, as PyTorch).</summary>
    public CudaGraphCaptureMode CaptureMode { get; init; } = CudaGraphCaptureMode.Global;

    /// <summary>A pool shared with other graphs (<see cref="CudaGraph.Pool"/> of another graph, or <see cref="CudaGraphPool.Create"/>); null for a private pool.</summary>
    public CudaGraphPool? Pool { get; init; }

    /// <summary>The CUDA device to capture on when there are no static inputs to take it from.</summary>
    public torch.Device? Device { get; init; }
}
