using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>transformers' <c>T5LayerSelfAttention</c>: <c>SelfAttention</c> and <c>layer_norm</c> (pre-norm residual).</summary>
public sealed class T5LayerSelfAttention : DiffusersModule
{
    private readonly T5Attention _attention;
    private readonly T5LayerNorm _layerNorm;

    /// <summary>Creates the layer.</summary>
    public T5LayerSelfAttention(T5Config config, bool hasRelativeAttentionBias, ModelPlacement placement) : base(nameof(T5LayerSelfAttention))
    {
        _attention = Register("SelfAttention", new T5Attention(config, hasRelativeAttentionBias, placement));
        _layerNorm = Register("layer_norm", new T5LayerNorm(config.DModel, config.LayerNormEpsilon, placement));
    }

    /// <summary><c>h + SelfAttention(layer_norm(h))</c> and the position bias.</summary>
    public (Tensor Hidden, Tensor PositionBias) Forward(Tensor hiddenStates, Tensor? positionBias)
    {
        using var scope = NewDisposeScope();
        var (attended, bias) = _attention.Forward(_layerNorm.call(hiddenStates), positionBias);
        return ((hiddenStates + attended).MoveToOuterDisposeScope(), positionBias is null ? bias.MoveToOuterDisposeScope() : positionBias);
    }
}
