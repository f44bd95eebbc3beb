using System;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Attention</c> with <c>AttnProcessor2_0</c> (scaled dot-product attention, scale
/// <c>dim_head^-0.5</c>): children <c>group_norm</c> (optional), <c>to_q</c>, <c>to_k</c>, <c>to_v</c>,
/// <c>to_out.0</c> (Linear) and <c>to_out.1</c> (Dropout). Accepts (B, N, C) or (B, C, H, W) input.
/// </summary>
public sealed class Attention : DiffusersModule
{
    private readonly int _heads;
    private readonly bool _residualConnection;
    private readonly double _rescaleOutputFactor;
    private readonly GroupNorm? _groupNorm;
    private readonly LoraLinear _toQ;
    private readonly LoraLinear _toK;
    private readonly LoraLinear _toV;
    private readonly LoraLinear _toOut;

    /// <summary>Creates the attention.</summary>
    /// <param name="queryDim">Channels of the query input.</param>
    /// <param name="crossAttentionDim">Channels of the key/value input, or null for self-attention.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="dimHead">Width of one head.</param>
    /// <param name="bias">Whether <c>to_q/k/v</c> have a bias.</param>
    /// <param name="outBias">Whether <c>to_out.0</c> has a bias.</param>
    /// <param name="normNumGroups">Groups of the input GroupNorm, or null for none.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="residualConnection">Whether the input is added to the output.</param>
    /// <param name="rescaleOutputFactor">The output is divided by this.</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public Attention(long queryDim, long? crossAttentionDim, int heads, int dimHead, bool bias, bool outBias,
        int? normNumGroups, double eps, bool residualConnection, double rescaleOutputFactor, ModelPlacement placement)
        : base(nameof(Attention))
    {
        _heads = heads;
        _residualConnection = residualConnection;
        _rescaleOutputFactor = rescaleOutputFactor;
        long inner = (long)heads * dimHead;
        long kvDim = crossAttentionDim ?? queryDim;
        if (normNumGroups is int groups)
            _groupNorm = Register("group_norm", nn.GroupNorm(groups, queryDim, eps, true, placement.Device, placement.DType));
        _toQ = Register("to_q", new LoraLinear(queryDim, inner, bias, placement.DType, placement.Device));
        _toK = Register("to_k", new LoraLinear(kvDim, inner, bias, placement.DType, placement.Device));
        _toV = Register("to_v", new LoraLinear(kvDim, inner, bias, placement.DType, placement.Device));
        _toOut = new LoraLinear(inner, queryDim, outBias, placement.DType, placement.Device);
        Register("to_out", new ModuleList<nn.Module<Tensor, Tensor>>(_toOut, nn.Dropout(0.0)));
    }

    /// <summary>Attention of <paramref name="hiddenStates"/> over itself or over <paramref name="encoderHiddenStates"/>.</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor? encoderHiddenStates = null)
    {
        using var scope = NewDisposeScope();
        Tensor residual = hiddenStates;
        long[] inputShape = hiddenStates.shape;
        bool spatial = inputShape.Length == 4;
        Tensor h = hiddenStates;
        if (spatial)
            h = h.view(inputShape[0], inputShape[1], inputShape[2] * inputShape[3]).transpose(1, 2);
        long batch = h.shape[0];
        if (_groupNorm is not null)
            h = _groupNorm.call(h.transpose(1, 2)).transpose(1, 2);

        Tensor query = _toQ.call(h);
        Tensor context = encoderHiddenStates ?? h;
        Tensor key = _toK.call(context);
        Tensor value = _toV.call(context);
        long inner = key.shape[^1];
        long headDim = inner / _heads;
        query = query.view(batch, -1, _heads, headDim).transpose(1, 2);
        key = key.view(batch, -1, _heads, headDim).transpose(1, 2);
        value = value.view(batch, -1, _heads, headDim).transpose(1, 2);

        Tensor attended = nn.functional.scaled_dot_product_attention(query, key, value);
        attended = attended.transpose(1, 2).reshape(batch, -1, _heads * headDim).to(query.dtype);
        Tensor output = _toOut.call(attended);
        if (spatial)
            output = output.transpose(-1, -2).reshape(inputShape);
        if (_residualConnection)
            output = output + residual;
        if (_rescaleOutputFactor != 1.0)
            output = output / _rescaleOutputFactor;
        return output.MoveToOuterDisposeScope();
    }
}
