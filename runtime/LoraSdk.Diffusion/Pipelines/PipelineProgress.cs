namespace LoraSdk.Diffusion.Pipelines;

/// <summary>Progress of a pipeline call, reported after each denoising step.</summary>
/// <param name="Step">Steps completed (1-based).</param>
/// <param name="TotalSteps">Total denoising steps.</param>
/// <param name="Timestep">The timestep just completed.</param>
public readonly record struct PipelineProgress(int Step, int TotalSteps, float Timestep);
