using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>
/// diffusers' <c>UNetMidBlock2D</c> as the VAE uses it (no time embedding, one layer): <c>resnets.0</c>,
/// <c>attentions.0</c> (single-head spatial <see cref="Attention"/> with GroupNorm and residual), <c>resnets.1</c>.
/// </summary>
public sealed class VaeMidBlock : DiffusersModule<Tensor, Tensor>
{
    private readonly List<ResnetBlock2D> _resnets = new();
    private readonly Attention? _attention;

    /// <summary>Creates the mid block.</summary>
    public VaeMidBlock(long channels, int groups, double eps, string activation, bool addAttention, ModelPlacement placement)
        : base(nameof(VaeMidBlock))
    {
        _resnets.Add(new ResnetBlock2D(channels, channels, null, groups, eps, activation, 1.0, placement));
        if (addAttention)
        {
            _attention = new Attention(channels, null, 1, (int)channels, true, true, groups, eps, true, 1.0, placement);
            Register("attentions", new ModuleList<Attention>(_attention));
        }
        _resnets.Add(new ResnetBlock2D(channels, channels, null, groups, eps, activation, 1.0, placement));
        Register("resnets", new ModuleList<ResnetBlock2D>(_resnets.ToArray()));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = _resnets[0].Forward(hiddenStates, null);
        if (_attention is not null) h = _attention.Forward(h);
        h = _resnets[1].Forward(h, null);
        return h.MoveToOuterDisposeScope();
    }
}
