using System.Runtime.CompilerServices;

// The engine tests check internal state (forward caches, fold state) that has no public surface.
[assembly: InternalsVisibleTo("LoraSdk.Engine.Tests")]

// The host's CUDA-graph tests capture with a CPU stand-in backend (CudaGraph.CaptureWith, ICudaGraphBackend).
[assembly: InternalsVisibleTo("LoraSdk.Diffusion.Tests")]
