namespace LoraSdk.Diffusion.Pipelines;

/// <summary>What a pipeline call returns (diffusers' <c>output_type</c>).</summary>
public enum PipelineOutputType
{
    /// <summary>Decoded images as (B, H, W, 3) float32 in [0, 1] (diffusers' <c>output_type="np"</c>).</summary>
    Image,

    /// <summary>The final latents, not decoded (diffusers' <c>output_type="latent"</c>).</summary>
    Latent,
}
