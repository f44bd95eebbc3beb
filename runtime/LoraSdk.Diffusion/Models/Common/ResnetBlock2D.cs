using System;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> (pre-norm, <c>time_embedding_norm="default"</c>): children <c>norm1</c>,
/// <c>conv1</c>, <c>time_emb_proj</c> (when a time embedding is used), <c>norm2</c>, <c>conv2</c>,
/// <c>conv_shortcut</c> (when the channel count changes).
/// </summary>
public sealed class ResnetBlock2D : DiffusersModule
{
    private readonly GroupNorm _norm1;
    private readonly LoraConv2d _conv1;
    private readonly LoraLinear? _timeEmbProj;
    private readonly GroupNorm _norm2;
    private readonly LoraConv2d _conv2;
    private readonly LoraConv2d? _convShortcut;
    private readonly Func<Tensor, Tensor> _nonlinearity;
    private readonly double _outputScaleFactor;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="tembChannels">Time-embedding width, or null for none (VAE).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="activation">Activation name (<c>silu</c>, <c>swish</c>, …).</param>
    /// <param name="outputScaleFactor">The sum of shortcut and residual is divided by this.</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public ResnetBlock2D(long inChannels, long outChannels, long? tembChannels, int groups, double eps, string activation,
        double outputScaleFactor, ModelPlacement placement)
        : base(nameof(ResnetBlock2D))
    {
        _nonlinearity = Activations.Get(activation);
        _outputScaleFactor = outputScaleFactor;
        _norm1 = Register("norm1", nn.GroupNorm(groups, inChannels, eps, true, placement.Device, placement.DType));
        _conv1 = Register("conv1", new LoraConv2d(inChannels, outChannels, 3, 1, 1, true, placement.DType, placement.Device));
        if (tembChannels is long t)
            _timeEmbProj = Register("time_emb_proj", new LoraLinear(t, outChannels, true, placement.DType, placement.Device));
        _norm2 = Register("norm2", nn.GroupNorm(groups, outChannels, eps, true, placement.Device, placement.DType));
        _conv2 = Register("conv2", new LoraConv2d(outChannels, outChannels, 3, 1, 1, true, placement.DType, placement.Device));
        if (inChannels != outChannels)
            _convShortcut = Register("conv_shortcut", new LoraConv2d(inChannels, outChannels, 1, 1, 0, true, placement.DType, placement.Device));
    }

    /// <summary>Applies the block; <paramref name="temb"/> is the (B, temb) time embedding or null.</summary>
    public Tensor Forward(Tensor input, Tensor? temb)
    {
        using var scope = NewDisposeScope();
        Tensor h = _norm1.call(input);
        h = _nonlinearity(h);
        h = _conv1.call(h);
        if (_timeEmbProj is not null && temb is not null)
        {
            Tensor t = _timeEmbProj.call(_nonlinearity(temb));
            h = h + t.unsqueeze(-1).unsqueeze(-1);
        }
        h = _norm2.call(h);
        h = _nonlinearity(h);
        h = _conv2.call(h);
        Tensor shortcut = _convShortcut is null ? input : _convShortcut.call(input);
        Tensor output = shortcut + h;
        if (_outputScaleFactor != 1.0)
            output = output / _outputScaleFactor;
        return output.MoveToOuterDisposeScope();
    }
}
