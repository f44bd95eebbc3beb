namespace LoraSdk.Typed;

/// <summary>
/// Base class of the base-model marker types (<see cref="Sdxl"/>, <see cref="Sd15"/>, <see cref="Sd2"/>, <see cref="Flux"/>, and the
/// markers the generator emits for custom UNet / transformer configurations). A marker is never instantiated: it only tags
/// adapters (<see cref="LoraAdapter{TBase}"/>) and pipelines (<see cref="ILoraPipeline{TBase}"/>) so that the
/// compiler rejects an adapter made for another base model.
/// </summary>
public abstract class BaseModel
{
    /// <summary>Only marker types derive from this class; they are never instantiated.</summary>
    protected BaseModel()
    {
    }
}
