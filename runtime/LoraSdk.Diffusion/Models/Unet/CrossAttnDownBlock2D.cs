using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>
/// diffusers' <c>CrossAttnDownBlock2D</c>: pairs of <c>resnets.N</c> and <c>attentions.N</c>
/// (<see cref="Transformer2DModel"/>), and an optional <c>downsamplers.0</c>.
/// </summary>
public sealed class CrossAttnDownBlock2D : UNetDownBlock
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly List<Transformer2DModel> _attentions = new();
    private readonly Downsample2D? _downsampler;

    /// <summary>Creates the block; <paramref name="transformerLayers"/> has one entry per resnet.</summary>
    public CrossAttnDownBlock2D(long inChannels, long outChannels, long tembChannels, int numLayers, int[] transformerLayers,
        int numHeads, long crossAttentionDim, bool useLinearProjection, bool addDownsample, int groups, double eps,
        string activation, double outputScaleFactor, int downsamplePadding, ModelPlacement placement)
        : base(nameof(CrossAttnDownBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
        {
            _resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, groups, eps,
                activation, outputScaleFactor, placement));
            _attentions.Add(new Transformer2DModel(numHeads, (int)(outChannels / numHeads), outChannels, transformerLayers[i],
                crossAttentionDim, groups, useLinearProjection, placement));
        }
        Register("attentions", new ModuleList<Transformer2DModel>(_attentions.ToArray()));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
        if (addDownsample)
        {
            _downsampler = new Downsample2D(outChannels, outChannels, downsamplePadding, placement);
            Register("downsamplers", new ModuleList<Downsample2D>(_downsampler));
        }
    }

    /// <inheritdoc />
    public override bool HasCrossAttention => true;

    /// <inheritdoc />
    public override (Tensor Hidden, IReadOnlyList<Tensor> Skips) Forward(Tensor hiddenStates, Tensor temb, Tensor? encoderHiddenStates)
    {
        var skips = new List<Tensor>();
        Tensor h = hiddenStates;
        for (int i = 0; i < _resnets.Count; i++)
        {
            using (var scope = NewDisposeScope())
            {
                Tensor r = _resnets[i].Forward(h, temb);
                h = _attentions[i].Forward(r, encoderHiddenStates).MoveToOuterDisposeScope();
            }
            skips.Add(h);
        }
        if (_downsampler is not null)
        {
            h = _downsampler.call(h);
            skips.Add(h);
        }
        return (h, skips);
    }
}
