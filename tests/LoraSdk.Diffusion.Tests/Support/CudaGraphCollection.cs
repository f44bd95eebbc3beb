namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>
/// Tests that capture CUDA graphs (with a CPU stand-in backend) share process-wide state — a capture under way makes
/// every LoRA state change refuse — so they run alone, not in parallel with other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CudaGraphCollection
{
    public const string Name = "CUDA graphs";
}
