using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' <c>UpDecoderBlock2D</c>: <c>resnets.N</c> and an optional <c>upsamplers.0</c>.</summary>
public sealed class UpDecoderBlock2D : DiffusersModule<Tensor, Tensor>
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly Upsample2D? _upsampler;

    /// <summary>Creates the block.</summary>
    public UpDecoderBlock2D(long inChannels, long outChannels, int numLayers, bool addUpsample, int groups, double eps,
        string activation, ModelPlacement placement)
        : base(nameof(UpDecoderBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
            _resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps, activation, 1.0, placement));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
        if (addUpsample)
        {
            _upsampler = new Upsample2D(outChannels, outChannels, placement);
            Register("upsamplers", new ModuleList<Upsample2D>(_upsampler));
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = hiddenStates;
        foreach (var resnet in _resnets) h = resnet.Forward(h, null);
        if (_upsampler is not null) h = _upsampler.Forward(h);
        return h.MoveToOuterDisposeScope();
    }
}
