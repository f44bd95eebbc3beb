using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>diffusers' <c>DownBlock2D</c>: <c>resnets.N</c> and an optional <c>downsamplers.0</c>.</summary>
public sealed class DownBlock2D : UNetDownBlock
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly Downsample2D? _downsampler;

    /// <summary>Creates the block.</summary>
    public DownBlock2D(long inChannels, long outChannels, long tembChannels, int numLayers, bool addDownsample,
        int groups, double eps, string activation, double outputScaleFactor, int downsamplePadding, ModelPlacement placement)
        : base(nameof(DownBlock2D))
    {
        for (int i = 0; i < numLayers; i++)
            _resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, groups, eps,
                activation, outputScaleFactor, placement));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
        if (addDownsample)
        {
            _downsampler = new Downsample2D(outChannels, outChannels, downsamplePadding, placement);
            Register("downsamplers", new ModuleList<Downsample2D>(_downsampler));
        }
    }

    /// <inheritdoc />
    public override bool HasCrossAttention => false;

    /// <inheritdoc />
    public override (Tensor Hidden, IReadOnlyList<Tensor> Skips) Forward(Tensor hiddenStates, Tensor temb, Tensor? encoderHiddenStates)
    {
        var skips = new List<Tensor>();
        Tensor h = hiddenStates;
        foreach (var resnet in _resnets)
        {
            h = resnet.Forward(h, temb);
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
