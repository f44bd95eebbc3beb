using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LoraSdk.Layers;

/// <summary>
/// The base of <see cref="LoraLinear"/> and <see cref="LoraConv2d"/>: a module whose adapters live in one
/// <see cref="LoraLayerCore"/> (all adapters of the base layer in one place, like PEFT's LoraLayer). Derived layers own
/// their registered <c>weight</c>/<c>bias</c> parameters and the forward math; everything about adapters is here.
/// </summary>
public abstract class LoraLayerModule : Module<Tensor, Tensor>, ILoraLayer
{
    private LoraLayerCore? _core;

    /// <summary>Creates the module; derived constructors call <see cref="AttachCore"/> once their parameters exist.</summary>
    private protected LoraLayerModule(string name) : base(name)
    {
    }

    internal LoraLayerCore Core => _core!;

    /// <inheritdoc />
    public abstract Parameter Weight { get; }

    /// <inheritdoc />
    public abstract Parameter? Bias { get; }

    /// <inheritdoc />
    public abstract long InFeatures { get; }

    /// <inheritdoc />
    public abstract long OutFeatures { get; }

    /// <inheritdoc />
    public abstract bool IsConvolution { get; }

    /// <inheritdoc />
    public string? ModulePath => Core.ModulePath;

    /// <inheritdoc />
    public IReadOnlyList<string> AdapterNames => Core.AdapterNames;

    /// <inheritdoc />
    public IReadOnlyList<string> ActiveAdapters => Core.ActiveAdapters;

    /// <inheritdoc />
    public IReadOnlyList<string> MergedAdapters => Core.MergedAdapters;

    /// <inheritdoc />
    public bool AdaptersDisabled => Core.Disabled;

    /// <inheritdoc />
    public bool IsInjected => Core.IsInjected;

    /// <inheritdoc />
    public bool IsMaterialized => Core.IsMaterialized;

    /// <inheritdoc />
    public bool HasAdapter(string adapterName) => Core.HasAdapter(adapterName);

    /// <inheritdoc />
    public LoraAdapterWeights GetAdapter(string adapterName) => Core.GetAdapter(adapterName);

    /// <summary>Creates the adapter state; call after the weight and bias are set, before <c>RegisterComponents</c>.</summary>
    private protected void AttachCore() => _core = new LoraLayerCore(this);

    /// <inheritdoc />
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Core.OnModuleMoved(device, dtype);
    }
}
