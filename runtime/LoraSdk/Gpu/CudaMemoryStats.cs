namespace LoraSdk.Gpu;

/// <summary>libtorch's CUDA caching-allocator counts for one device, in bytes (PyTorch's <c>torch.cuda.memory_stats</c>).</summary>
/// <param name="Allocated">Bytes in live tensors now (<c>memory_allocated</c>).</param>
/// <param name="PeakAllocated">The most bytes in live tensors since the last reset (<c>max_memory_allocated</c>).</param>
/// <param name="Reserved">Bytes the allocator holds from the driver now (<c>memory_reserved</c>).</param>
/// <param name="PeakReserved">The most bytes held since the last reset (<c>max_memory_reserved</c>).</param>
public readonly record struct CudaMemoryStats(long Allocated, long PeakAllocated, long Reserved, long PeakReserved);
