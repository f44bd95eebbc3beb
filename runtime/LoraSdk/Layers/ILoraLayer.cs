using System.Collections.Generic;
using TorchSharp.Modules;

namespace LoraSdk.Layers;

/// <summary>
/// A layer that holds LoRA adapters keyed by name, like a PEFT <c>LoraLayer</c> (implemented by
/// <see cref="LoraLinear"/> and <see cref="LoraConv2d"/>). This is the read side; every change goes through
/// <see cref="Adapters.LoraComponent"/>, which keeps its per-adapter layer index consistent.
/// </summary>
public interface ILoraLayer
{
    /// <summary>The module path inside its component (diffusers naming), or null when no component owns the layer.</summary>
    string? ModulePath { get; }

    /// <summary>True for <see cref="LoraConv2d"/>, false for <see cref="LoraLinear"/>.</summary>
    bool IsConvolution { get; }

    /// <summary>The base weight, (out, in) or (out, in, kh, kw). Holds fused adapters while <see cref="MergedAdapters"/> is not empty.</summary>
    Parameter Weight { get; }

    /// <summary>The base bias, or null.</summary>
    Parameter? Bias { get; }

    /// <summary>Input features (Linear) or input channels (Conv2d).</summary>
    long InFeatures { get; }

    /// <summary>Output features (Linear) or output channels (Conv2d).</summary>
    long OutFeatures { get; }

    /// <summary>Names of the adapters this layer holds, in load order.</summary>
    IReadOnlyList<string> AdapterNames { get; }

    /// <summary>True when the layer holds adapter <paramref name="adapterName"/>.</summary>
    bool HasAdapter(string adapterName);

    /// <summary>The live weights of adapter <paramref name="adapterName"/> (throws <see cref="KeyNotFoundException"/> if absent).</summary>
    LoraAdapterWeights GetAdapter(string adapterName);

    /// <summary>PEFT's <c>active_adapters</c> of this layer (may name adapters that this layer does not hold).</summary>
    IReadOnlyList<string> ActiveAdapters { get; }

    /// <summary>PEFT's <c>merged_adapters</c>: adapters fused into <see cref="Weight"/>, in fusing order.</summary>
    IReadOnlyList<string> MergedAdapters { get; }

    /// <summary>PEFT's <c>disable_adapters</c>: when true the layer runs as its base layer.</summary>
    bool AdaptersDisabled { get; }

    /// <summary>True when an adapter was ever injected and the layer was not unloaded since (PEFT's "is a BaseTunerLayer").</summary>
    bool IsInjected { get; }

    /// <summary>True while the active adapters are folded into <see cref="Weight"/> by the materialized forward mode.</summary>
    bool IsMaterialized { get; }
}
