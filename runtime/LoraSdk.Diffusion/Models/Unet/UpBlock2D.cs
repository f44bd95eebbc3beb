using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>diffusers' <c>UpBlock2D</c>: <c>resnets.N</c> over the concatenated skips and an optional <c>upsamplers.0</c>.</summary>
public sealed class UpBlock2D : UNetUpBlock
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly Upsample2D? _upsampler;

    /// <summary>Creates the block (channel arithmetic as in diffusers' <c>get_up_block</c>).</summary>
    public UpBlock2D(long inChannels, long prevOutputChannel, long outChannels, long tembChannels, int numLayers,
        bool addUpsample, int groups, double eps, string activation, double outputScaleFactor, ModelPlacement placement)
        : base(nameof(UpBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
        {
            long resSkip = i == numLayers - 1 ? inChannels : outChannels;
            long resnetIn = i == 0 ? prevOutputChannel : outChannels;
            _resnets.Add(new ResnetBlock2D(resnetIn + resSkip, outChannels, tembChannels, groups, eps, activation,
                outputScaleFactor, placement));
        }
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
    public override bool HasCrossAttention => false;

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor? encoderHiddenStates, long[]? upsampleSize)
    {
        using var scope = NewDisposeScope();
        Tensor h = hiddenStates;
        int next = skips.Count - 1;
        foreach (var resnet in _resnets)
        {
            Tensor cat = TorchSharp.torch.cat(new[] { h, skips[next--] }, 1);
            h = resnet.Forward(cat, temb);
        }
        if (_upsampler is not null)
            h = _upsampler.Forward(h, upsampleSize);
        return h.MoveToOuterDisposeScope();
    }
}
