using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>
/// diffusers' <c>CrossAttnUpBlock2D</c>: pairs of <c>resnets.N</c> (over the concatenated skips) and
/// <c>attentions.N</c>, and an optional <c>upsamplers.0</c>.
/// </summary>
public sealed class CrossAttnUpBlock2D : UNetUpBlock
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly List<Transformer2DModel> _attentions = new();
    private readonly Upsample2D? _upsampler;

    /// <summary>Creates the block; <paramref name="transformerLayers"/> has one entry per resnet.</summary>
    public CrossAttnUpBlock2D(long inChannels, long prevOutputChannel, long outChannels, long tembChannels, int numLayers,
        int[] transformerLayers, int numHeads, long crossAttentionDim, bool useLinearProjection, bool addUpsample,
        int groups, double eps, string activation, double outputScaleFactor, ModelPlacement placement)
        : base(nameof(CrossAttnUpBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
        {
            long resSkip = i == numLayers - 1 ? inChannels : outChannels;
            long resnetIn = i == 0 ? prevOutputChannel : outChannels;
            _resnets.Add(new ResnetBlock2D(resnetIn + resSkip, outChannels, tembChannels, groups, eps, activation,
                outputScaleFactor, placement));
            _attentions.Add(new Transformer2DModel(numHeads, (int)(outChannels / numHeads), outChannels, transformerLayers[i],
                crossAttentionDim, groups, useLinearProjection, placement));
        }
        Register("attentions", new ModuleList<Transformer2DModel>(_attentions.ToArray()));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
        if (addUpsample)
        {
            _upsampler = new Upsample2D(outChannels, outChannels, placement);
            Register("upsamplers", new ModuleList<Upsample2D>(_upsampler));
        }
    }

    /// <inheritdoc />
    public override int ResnetCount => _resnets.Count;

    /// <inheritdoc />
    public override bool HasCrossAttention => true;

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor? encoderHiddenStates, long[]? upsampleSize)
    {
        using var scope = NewDisposeScope();
        Tensor h = hiddenStates;
        int next = skips.Count - 1;
        for (int i = 0; i < _resnets.Count; i++)
        {
            Tensor cat = TorchSharp.torch.cat(new[] { h, skips[next--] }, 1);
            h = _resnets[i].Forward(cat, temb);
            h = _attentions[i].Forward(h, encoderHiddenStates);
        }
        if (_upsampler is not null)
            h = _upsampler.Forward(h, upsampleSize);
        return h.MoveToOuterDisposeScope();
    }
}
