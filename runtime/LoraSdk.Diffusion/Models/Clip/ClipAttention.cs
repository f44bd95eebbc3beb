using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPAttention</c> (causal, sdpa): <c>k_proj</c>, <c>v_proj</c>, <c>q_proj</c>, <c>out_proj</c>.</summary>
public sealed class ClipAttention : DiffusersModule<Tensor, Tensor>
{
    private readonly int _heads;
    private readonly LoraLinear _kProj;
    private readonly LoraLinear _vProj;
    private readonly LoraLinear _qProj;
    private readonly LoraLinear _outProj;

    /// <summary>Creates the attention.</summary>
    public ClipAttention(long embedDim, int heads, ModelPlacement placement) : base(nameof(ClipAttention))
    {
        _heads = heads;
        _kProj = Register("k_proj", new LoraLinear(embedDim, embedDim, true, placement.DType, placement.Device));
        _vProj = Register("v_proj", new LoraLinear(embedDim, embedDim, true, placement.DType, placement.Device));
        _qProj = Register("q_proj", new LoraLinear(embedDim, embedDim, true, placement.DType, placement.Device));
        _outProj = Register("out_proj", new LoraLinear(embedDim, embedDim, true, placement.DType, placement.Device));
    }

    /// <summary>Causal self-attention of (B, L, D) hidden states.</summary>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        long batch = hiddenStates.shape[0], length = hiddenStates.shape[1];
        long headDim = hiddenStates.shape[2] / _heads;
        Tensor q = _qProj.call(hiddenStates).view(batch, length, -1, headDim).transpose(1, 2);
        Tensor k = _kProj.call(hiddenStates).view(batch, length, -1, headDim).transpose(1, 2);
        Tensor v = _vProj.call(hiddenStates).view(batch, length, -1, headDim).transpose(1, 2);
        Tensor attended = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true);
        attended = attended.transpose(1, 2).contiguous().reshape(batch, length, -1);
        return _outProj.call(attended).MoveToOuterDisposeScope();
    }
}
