using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>
/// transformers' encoder <c>T5Block</c>: <c>layer.0</c> (<see cref="T5LayerSelfAttention"/>) and <c>layer.1</c>
/// (<see cref="T5LayerFF"/>), each a pre-norm residual; float16 states are clamped as transformers does.
/// </summary>
public sealed class T5Block : DiffusersModule
{
    private readonly T5LayerSelfAttention _selfAttention;
    private readonly T5LayerFF _ff;

    /// <summary>Creates the block.</summary>
    public T5Block(T5Config config, bool hasRelativeAttentionBias, ModelPlacement placement) : base(nameof(T5Block))
    {
        _selfAttention = new T5LayerSelfAttention(config, hasRelativeAttentionBias, placement);
        _ff = new T5LayerFF(config, placement);
        Register("layer", new ModuleList<nn.Module>(_selfAttention, _ff));
    }

    /// <summary>Runs the block; returns the new states and the position bias (computed by the first block).</summary>
    public (Tensor Hidden, Tensor PositionBias) Forward(Tensor hiddenStates, Tensor? positionBias)
    {
        using var scope = NewDisposeScope();
        var (h, bias) = _selfAttention.Forward(hiddenStates, positionBias);
        h = ClampFloat16(h);
        h = ClampFloat16(_ff.call(h));
        return (h.MoveToOuterDisposeScope(), positionBias is null ? bias.MoveToOuterDisposeScope() : positionBias);
    }

    private static Tensor ClampFloat16(Tensor h)
    {
        if (h.dtype != ScalarType.Float16) return h;
        double max = 65504.0;
        double clamp = h.isinf().any().item<bool>() ? max - 1000 : max;
        return h.clamp(-clamp, clamp);
    }
}
