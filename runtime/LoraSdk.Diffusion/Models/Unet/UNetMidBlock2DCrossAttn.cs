using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>diffusers' <c>UNetMidBlock2DCrossAttn</c> (one layer): <c>resnets.0</c>, <c>attentions.0</c>, <c>resnets.1</c>.</summary>
public sealed class UNetMidBlock2DCrossAttn : DiffusersModule
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly List<Transformer2DModel> _attentions = new();

    /// <summary>Creates the mid block.</summary>
    public UNetMidBlock2DCrossAttn(long inChannels, long tembChannels, int transformerLayers, int numHeads,
        long crossAttentionDim, bool useLinearProjection, int groups, double eps, string activation,
        double outputScaleFactor, ModelPlacement placement)
        : base(nameof(UNetMidBlock2DCrossAttn))
    {
        _resnets.Add(new ResnetBlock2D(inChannels, inChannels, tembChannels, groups, eps, activation, outputScaleFactor, placement));
        _attentions.Add(new Transformer2DModel(numHeads, (int)(inChannels / numHeads), inChannels, transformerLayers,
            crossAttentionDim, groups, useLinearProjection, placement));
        _resnets.Add(new ResnetBlock2D(inChannels, inChannels, tembChannels, groups, eps, activation, outputScaleFactor, placement));
        Register("attentions", new ModuleList<Transformer2DModel>(_attentions.ToArray()));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
    }

    /// <summary>Applies the mid block.</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = _resnets[0].Forward(hiddenStates, temb);
        for (int i = 0; i < _attentions.Count; i++)
        {
            h = _attentions[i].Forward(h, encoderHiddenStates);
            h = _resnets[i + 1].Forward(h, temb);
        }
        return h.MoveToOuterDisposeScope();
    }
}
