using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' <c>DownEncoderBlock2D</c>: <c>resnets.N</c> and an optional <c>downsamplers.0</c> (padding 0).</summary>
public sealed class DownEncoderBlock2D : DiffusersModule<Tensor, Tensor>
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly Downsample2D? _downsampler;

    /// <summary>Creates the block.</summary>
    public DownEncoderBlock2D(long inChannels, long outChannels, int numLayers, bool addDownsample, int groups, double eps,
        string activation, ModelPlacement placement)
        : base(nameof(DownEncoderBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
            _resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps, activation, 1.0, placement));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
        if (addDownsample)
        {
            _downsampler = new Downsample2D(outChannels, outChannels, 0, placement);
            Register("downsamplers", new ModuleList<Downsample2D>(_downsampler));
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = hiddenStates;
        foreach (var resnet in _resnets) h = resnet.Forward(h, null);
        if (_downsampler is not null) h = _downsampler.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
