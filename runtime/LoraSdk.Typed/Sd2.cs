namespace LoraSdk.Typed;

/// <summary>Marker of Stable Diffusion 2.x (UNet cross-attention width 1024, OpenCLIP-H text encoder).</summary>
public sealed class Sd2 : BaseModel
{
    private Sd2()
    {
    }
}
