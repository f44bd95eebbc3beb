using System;

namespace LoraSdk.Typed;

/// <summary>
/// An adapter name with a scalar weight, as passed to diffusers' <c>set_adapters</c> or PEFT's
/// <c>add_weighted_adapter</c>. Made by <see cref="LoraAdapter{TBase}.At(double)"/>,
/// <see cref="DeclaredMerge{TBase}.At(double)"/> or <see cref="HotswapSlot{TBase, TGroup}.At(double)"/>.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
public class WeightedAdapter<TBase>
    where TBase : BaseModel
{
    internal WeightedAdapter(string adapterName, double weight, LoraAdapter<TBase>? adapter)
    {
        if (double.IsNaN(weight) || double.IsInfinity(weight))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"The weight of adapter '{adapterName}' must be finite.");
        AdapterName = adapterName;
        Weight = weight;
        Adapter = adapter;
    }

    /// <summary>The adapter name in the pipeline.</summary>
    public string AdapterName { get; }

    /// <summary>The weight.</summary>
    public double Weight { get; }

    /// <summary>The manifest adapter, or null for a merge result or a hotswap slot.</summary>
    public LoraAdapter<TBase>? Adapter { get; }

    /// <inheritdoc />
    public override string ToString() => $"{AdapterName}@{Weight.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
}
