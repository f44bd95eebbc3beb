namespace LoraSdk.Typed;

/// <summary>Marker of Stable Diffusion 1.x (UNet cross-attention width 768, CLIP-L text encoder).</summary>
public sealed class Sd15 : BaseModel
{
    private Sd15()
    {
    }
}
