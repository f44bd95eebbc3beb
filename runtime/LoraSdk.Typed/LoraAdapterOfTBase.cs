using System;

namespace LoraSdk.Typed;

/// <summary>
/// A manifest adapter for the base model <typeparamref name="TBase"/>. A <see cref="TypedLoraPipeline{TBase}"/>
/// accepts only adapters of its own base model, so passing, say, an SD 1.5 adapter to an SDXL pipeline does not
/// compile (CS1503).
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
public abstract class LoraAdapter<TBase> : LoraAdapter
    where TBase : BaseModel
{
    /// <summary>For generated adapter types.</summary>
    // RS0022: on purpose — LoraAdapter is derivable only through this class, so every adapter has a base model.
#pragma warning disable RS0022
    protected LoraAdapter()
    {
    }
#pragma warning restore RS0022

    /// <inheritdoc />
    public sealed override Type BaseModel => typeof(TBase);

    /// <summary>This adapter with a scalar weight for <see cref="TypedLoraPipeline{TBase}.SetAdapters(WeightedAdapter{TBase}[])"/>.</summary>
    /// <param name="weight">The adapter weight (diffusers' <c>adapter_weights</c>); any finite value.</param>
    public WeightedAdapter<TBase> At(double weight) => new WeightedAdapter<TBase>(Name, weight, this);

    /// <summary>This adapter at its manifest <see cref="LoraAdapter.DefaultWeight"/>.</summary>
    public WeightedAdapter<TBase> AtDefaultWeight() => At(DefaultWeight);
}
