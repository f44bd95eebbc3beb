using System.Collections.Generic;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Transformer2DModel</c> for continuous input: <c>norm</c> (GroupNorm, eps 1e-6), <c>proj_in</c>
/// (Linear with <c>use_linear_projection</c>, else 1×1 Conv2d), <c>transformer_blocks.N</c>, <c>proj_out</c>, and
/// the residual connection.
/// </summary>
public sealed class Transformer2DModel : DiffusersModule
{
    private readonly GroupNorm _norm;
    private readonly nn.Module<Tensor, Tensor> _projIn;
    private readonly nn.Module<Tensor, Tensor> _projOut;
    private readonly List<BasicTransformerBlock> _blocks = new();
    private readonly bool _useLinearProjection;

    /// <summary>Creates the transformer.</summary>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="headDim">Width of one head.</param>
    /// <param name="inChannels">Channels in and out.</param>
    /// <param name="numLayers">Number of transformer blocks.</param>
    /// <param name="crossAttentionDim">Text width.</param>
    /// <param name="normNumGroups">GroupNorm groups.</param>
    /// <param name="useLinearProjection">Linear (true) or 1×1 Conv2d (false) projections.</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public Transformer2DModel(int numHeads, int headDim, long inChannels, int numLayers, long? crossAttentionDim,
        int normNumGroups, bool useLinearProjection, ModelPlacement placement)
        : base(nameof(Transformer2DModel))
    {
        _useLinearProjection = useLinearProjection;
        long inner = (long)numHeads * headDim;
        _norm = Register("norm", nn.GroupNorm(normNumGroups, inChannels, 1e-6, true, placement.Device, placement.DType));
        _projIn = useLinearProjection
            ? new LoraLinear(inChannels, inner, true, placement.DType, placement.Device)
            : new LoraConv2d(inChannels, inner, 1, 1, 0, true, placement.DType, placement.Device);
        Register("proj_in", _projIn);
        for (int i = 0; i < numLayers; i++)
            _blocks.Add(new BasicTransformerBlock(inner, numHeads, headDim, crossAttentionDim, 1e-5, placement));
        Register("transformer_blocks", new ModuleList<BasicTransformerBlock>(_blocks.ToArray()));
        _projOut = useLinearProjection
            ? new LoraLinear(inner, inChannels, true, placement.DType, placement.Device)
            : new LoraConv2d(inner, inChannels, 1, 1, 0, true, placement.DType, placement.Device);
        Register("proj_out", _projOut);
    }

    /// <summary>Applies the transformer to (B, C, H, W) features with (B, L, text) context.</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        long[] shape = hiddenStates.shape;
        long batch = shape[0], height = shape[2], width = shape[3];
        Tensor residual = hiddenStates;
        Tensor h = _norm.call(hiddenStates);
        long innerDim;
        if (!_useLinearProjection)
        {
            h = _projIn.call(h);
            innerDim = h.shape[1];
            h = h.permute(0, 2, 3, 1).reshape(batch, height * width, innerDim);
        }
        else
        {
            innerDim = h.shape[1];
            h = h.permute(0, 2, 3, 1).reshape(batch, height * width, innerDim);
            h = _projIn.call(h);
        }
        foreach (var block in _blocks)
            h = block.Forward(h, encoderHiddenStates);
        if (!_useLinearProjection)
        {
            h = h.reshape(batch, height, width, innerDim).permute(0, 3, 1, 2).contiguous();
            h = _projOut.call(h);
        }
        else
        {
            h = _projOut.call(h);
            h = h.reshape(batch, height, width, innerDim).permute(0, 3, 1, 2).contiguous();
        }
        return (h + residual).MoveToOuterDisposeScope();
    }
}
