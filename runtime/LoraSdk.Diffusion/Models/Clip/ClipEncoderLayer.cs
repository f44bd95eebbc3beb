using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPEncoderLayer</c>: <c>self_attn</c>, <c>layer_norm1</c>, <c>mlp</c>, <c>layer_norm2</c> (pre-norm).</summary>
public sealed class ClipEncoderLayer : DiffusersModule<Tensor, Tensor>
{
    private readonly ClipAttention _selfAttn;
    private readonly LayerNorm _layerNorm1;
    private readonly ClipMlp _mlp;
    private readonly LayerNorm _layerNorm2;

    /// <summary>Creates the layer.</summary>
    public ClipEncoderLayer(Configuration.ClipTextConfig config, ModelPlacement placement) : base(nameof(ClipEncoderLayer))
    {
        _selfAttn = Register("self_attn", new ClipAttention(config.HiddenSize, config.NumAttentionHeads, placement));
        _layerNorm1 = Register("layer_norm1", nn.LayerNorm(config.HiddenSize, config.LayerNormEps, true, true, placement.Device, placement.DType));
        _mlp = Register("mlp", new ClipMlp(config.HiddenSize, config.IntermediateSize, config.HiddenAct, placement));
        _layerNorm2 = Register("layer_norm2", nn.LayerNorm(config.HiddenSize, config.LayerNormEps, true, true, placement.Device, placement.DType));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        Tensor h = hiddenStates + _selfAttn.call(_layerNorm1.call(hiddenStates));
        h = h + _mlp.call(_layerNorm2.call(h));
        return h.MoveToOuterDisposeScope();
    }
}
