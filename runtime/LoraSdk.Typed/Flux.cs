namespace LoraSdk.Typed;

/// <summary>Marker of FLUX.1 (a <c>FluxTransformer2DModel</c> denoiser, component <c>transformer</c>; CLIP-L <c>text_encoder</c>).</summary>
public sealed class Flux : BaseModel
{
    private Flux()
    {
    }
}
