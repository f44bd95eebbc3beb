using System;
using System.Collections.Generic;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// One adapter's weights in one layer, like PEFT's per-adapter entries of a <c>LoraLayer</c> (<c>r[name]</c>,
/// <c>lora_alpha[name]</c>, <c>scaling[name]</c> and the variant's tensors). This is the variant seam, modelled on PEFT's
/// <c>LoraVariant</c>: each variant (<see cref="LowRankWeights"/> for LoRA, <see cref="DoraWeights"/> for DoRA,
/// <see cref="LohaWeights"/> and <see cref="LokrWeights"/> for LyCORIS LoHa and LoKr) says
/// how it is built from a file's tensors, what it adds in the forward pass, how it folds into the base weight (fuse and
/// the materialized mode) and which tensors it saves; the layer's state machine (active adapters, caches, fuse
/// bookkeeping) is the same for all. Tensors are live and owned by the layer: read or clone them, never dispose or
/// resize them. All mutation goes through <see cref="Adapters.LoraComponent"/>.
/// </summary>
public abstract class AdapterWeights
{
    private protected AdapterWeights(string adapterName, int configuredRank, double alpha, bool useRsLora)
    {
        AdapterName = adapterName;
        ConfiguredRank = configuredRank;
        Alpha = alpha;
        UseRsLora = useRsLora;
        Scaling = ScalingFor(1.0);
    }

    /// <summary>The adapter name.</summary>
    public string AdapterName { get; }

    /// <summary>The variant (<see cref="LoraVariants.Lora"/>, <see cref="LoraVariants.PeftDora"/>, …).</summary>
    public abstract string Variant { get; }

    /// <summary>PEFT's <c>r[name]</c>: the rank used in the scaling <c>alpha / r</c>.</summary>
    public int ConfiguredRank { get; internal set; }

    /// <summary>PEFT's <c>lora_alpha[name]</c>.</summary>
    public double Alpha { get; internal set; }

    /// <summary>rsLoRA: the scaling is <c>alpha / sqrt(r)</c> instead of <c>alpha / r</c>.</summary>
    public bool UseRsLora { get; }

    /// <summary>PEFT's <c>scaling[name]</c>: adapter weight × alpha / r (or / √r with rsLoRA).</summary>
    public double Scaling { get; private set; }

    /// <summary>
    /// After <c>enable_lora_hotswap</c> prepared the layer, the scaling also lives in this 0-dim tensor (PEFT keeps
    /// scalings as tensors then); it is updated in place and never reallocated — after a staged hotswap's apply (which
    /// stays one device copy) when next read through this property. Null otherwise.
    /// </summary>
    public Tensor? ScalingTensor
    {
        get
        {
            if (_scalingTensorStale && _scalingTensor is not null)
            {
                using (torch.no_grad()) _scalingTensor.fill_(Scaling);
                _scalingTensorStale = false;
            }
            return _scalingTensor;
        }
    }

    private Tensor? _scalingTensor;
    private bool _scalingTensorStale;

    /// <summary>The device of the weights.</summary>
    public abstract Device Device { get; }

    /// <summary>The dtype of the weights.</summary>
    public abstract ScalarType DType { get; }

    /// <summary>Raised by every change of a value that the forward pass depends on.</summary>
    internal int Version { get; private set; }

    /// <summary>Raised when the factor tensors change (hotswap, padding, a move), not when only the scaling does.</summary>
    internal int FactorVersion { get; private set; }

    /// <summary>
    /// True for plain low-rank adapters, which a layer runs together as one product over their concatenated factors;
    /// the other variants run one by one, in the active order (as PEFT's forward loop does).
    /// </summary>
    internal abstract bool JoinsBatchedProduct { get; }

    /// <summary>PEFT's <c>set_scale</c> formula: <paramref name="weight"/> × alpha / r (or / √r).</summary>
    internal double ScalingFor(double weight) => ScalingOf(weight, Alpha, ConfiguredRank, UseRsLora);

    /// <summary><see cref="ScalingFor"/> for a given alpha and rank (what a hotswap will set, computed ahead).</summary>
    internal static double ScalingOf(double weight, double alpha, int rank, bool useRsLora) =>
        useRsLora ? weight * alpha / Math.Sqrt(rank) : weight * alpha / rank;

    /// <summary>
    /// Sets the scaling; <paramref name="deferTensor"/> (a staged hotswap's apply, which must stay one device copy)
    /// leaves the <see cref="ScalingTensor"/> fill to its next read through the property.
    /// </summary>
    internal void SetScaling(double scaling, bool deferTensor = false)
    {
        if (Scaling.Equals(scaling)) return;
        Scaling = scaling;
        if (deferTensor) _scalingTensorStale = _scalingTensor is not null;
        else
        {
            _scalingTensor?.fill_(scaling);
            _scalingTensorStale = false;
        }
        Version++;
    }

    internal void Touch()
    {
        Version++;
        FactorVersion++;
    }

    internal void ConvertScalingToTensor()
    {
        if (_scalingTensor is not null) return;
        _scalingTensor = torch.tensor(Scaling, ScalarType.Float64, Device).DetachFromDisposeScope();
        _scalingTensorStale = false;
    }

    /// <summary>
    /// Adds this adapter's contribution, at <paramref name="scale"/> (its scaling × the runtime scale), to
    /// <paramref name="result"/>, which holds the base layer's output plus the contributions of the adapters before it.
    /// </summary>
    internal abstract void AddForward(LoraLayer layer, Tensor input, Tensor result, double scale);

    /// <summary>
    /// Folds this adapter at <paramref name="scale"/> into <paramref name="weight"/>, the layer's weight viewed as
    /// (out, in·kh·kw) in the dtype the fold runs in (fp32 for half-precision layers). Fuse and the materialized mode fold
    /// the active adapters in order, each into the result of the previous ones, as PEFT's <c>merge</c> does.
    /// </summary>
    internal abstract void FoldInto(Tensor weight, double scale);

    /// <summary>The tensors a save writes for this module, keyed by their suffix after the module path, at the real rank.</summary>
    internal abstract IEnumerable<KeyValuePair<string, Tensor>> SavedTensors(bool upcast);

    /// <summary>Moves or casts every tensor (after the layer moved its parameters, or <c>set_lora_device</c>).</summary>
    internal void MoveTo(Device? device, ScalarType? dtype)
    {
        MoveTensors(device, dtype);
        if (_scalingTensor is not null && device is not null && _scalingTensor.device.ToString() != device.ToString())
        {
            var moved = _scalingTensor.to(device).DetachFromDisposeScope();
            _scalingTensor.Dispose();
            _scalingTensor = moved;
        }
        Touch();
    }

    private protected abstract void MoveTensors(Device? device, ScalarType? dtype);

    /// <summary>A moved or cast copy of <paramref name="t"/> that outlives any dispose scope (or <paramref name="t"/> itself).</summary>
    private protected static Tensor Moved(Tensor t, Device? device, ScalarType? dtype)
    {
        Tensor result;
        if (dtype is ScalarType d && device is not null) result = t.to(d, device);
        else if (dtype is ScalarType d2) result = t.to(d2);
        else result = device is not null ? t.to(device) : t;
        if (!ReferenceEquals(result, t)) result.DetachFromDisposeScope();
        return result;
    }

    /// <summary>Frees the tensors.</summary>
    internal virtual void Dispose() => _scalingTensor?.Dispose();
}
