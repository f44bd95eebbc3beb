namespace LoraSdk.Engine.Tests.Gpu;

/// <summary>
/// The CUDA-graph tests share process-wide state (the capture-under-way count, the loaded native library, the
/// library-path environment variable), so they run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CudaGraphCollection
{
    public const string Name = "CUDA graphs";
}
