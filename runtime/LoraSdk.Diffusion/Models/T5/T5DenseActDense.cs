using System;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>
/// transformers' <c>T5DenseGatedActDense</c> (<c>wi_0</c>, <c>wi_1</c>, <c>wo</c>: <c>wo(act(wi_0 x) · wi_1 x)</c>) or,
/// for non-gated configs, <c>T5DenseActDense</c> (<c>wi</c>, <c>wo</c>). Under float16, <c>wo</c> is kept in float32
/// (transformers' <c>_keep_in_fp32_modules = ["wo"]</c>) and its input is cast to it.
/// </summary>
public sealed class T5DenseActDense : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraLinear? _wi;
    private readonly LoraLinear? _wi0;
    private readonly LoraLinear? _wi1;
    private readonly LoraLinear _wo;
    private readonly Func<Tensor, Tensor> _act;

    /// <summary>Creates the feed-forward.</summary>
    public T5DenseActDense(T5Config config, ModelPlacement placement) : base(nameof(T5DenseActDense))
    {
        var (dt, dev) = (placement.DType, placement.Device);
        _act = Activations.Get(config.DenseActFn);
        if (config.IsGatedAct)
        {
            _wi0 = Register("wi_0", new LoraLinear(config.DModel, config.DFf, false, dt, dev));
            _wi1 = Register("wi_1", new LoraLinear(config.DModel, config.DFf, false, dt, dev));
        }
        else
        {
            _wi = Register("wi", new LoraLinear(config.DModel, config.DFf, false, dt, dev));
        }
        ScalarType woType = dt == ScalarType.Float16 ? ScalarType.Float32 : dt;
        _wo = Register("wo", new LoraLinear(config.DFf, config.DModel, false, woType, dev));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = _wi is not null
            ? _act(_wi.call(hiddenStates))
            : _act(_wi0!.call(hiddenStates)) * _wi1!.call(hiddenStates);
        if (h.dtype != _wo.Weight.dtype) h = h.to_type(_wo.Weight.dtype);
        return _wo.call(h).MoveToOuterDisposeScope();
    }
}
