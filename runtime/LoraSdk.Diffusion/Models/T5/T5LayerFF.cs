using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>transformers' <c>T5LayerFF</c>: <c>DenseReluDense</c> and <c>layer_norm</c> (pre-norm residual).</summary>
public sealed class T5LayerFF : DiffusersModule<Tensor, Tensor>
{
    private readonly T5DenseActDense _dense;
    private readonly T5LayerNorm _layerNorm;

    /// <summary>Creates the layer.</summary>
    public T5LayerFF(T5Config config, ModelPlacement placement) : base(nameof(T5LayerFF))
    {
        _dense = Register("DenseReluDense", new T5DenseActDense(config, placement));
        _layerNorm = Register("layer_norm", new T5LayerNorm(config.DModel, config.LayerNormEpsilon, placement));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return (hiddenStates + _dense.call(_layerNorm.call(hiddenStates))).MoveToOuterDisposeScope();
    }
}
