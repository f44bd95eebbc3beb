namespace LoraSdk.Typed;

/// <summary>Marker of Stable Diffusion XL (UNet cross-attention width 2048, CLIP-L + OpenCLIP-bigG text encoders).</summary>
public sealed class Sdxl : BaseModel
{
    private Sdxl()
    {
    }
}
