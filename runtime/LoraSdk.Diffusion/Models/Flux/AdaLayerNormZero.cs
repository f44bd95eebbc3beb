using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>AdaLayerNormZero</c> (adaLN-Zero, layer norm without affine parameters, eps 1e-6): <c>linear</c>
/// projects SiLU(temb) to six modulations; returns the modulated input and the gate/shift/scale the block uses later.
/// </summary>
public sealed class AdaLayerNormZero : DiffusersModule
{
    private readonly LoraLinear _linear;
    private readonly long _dim;

    /// <summary>Creates the norm for <paramref name="embeddingDim"/> channels.</summary>
    public AdaLayerNormZero(long embeddingDim, ModelPlacement placement) : base(nameof(AdaLayerNormZero))
    {
        _dim = embeddingDim;
        _linear = Register("linear", new LoraLinear(embeddingDim, 6 * embeddingDim, true, placement.DType, placement.Device));
    }

    /// <summary>
    /// Returns <c>(norm(x)·(1 + scale_msa) + shift_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp)</c> for (B, N, D)
    /// <paramref name="x"/> and (B, D) <paramref name="emb"/>.
    /// </summary>
    public (Tensor Normed, Tensor GateMsa, Tensor ShiftMlp, Tensor ScaleMlp, Tensor GateMlp) Forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        Tensor[] m = _linear.call(nn.functional.silu(emb)).chunk(6, 1);
        Tensor normed = nn.functional.layer_norm(x, new[] { _dim }, null, null, 1e-6);
        normed = normed * (1 + m[1].unsqueeze(1)) + m[0].unsqueeze(1);
        return (normed.MoveToOuterDisposeScope(), m[2].MoveToOuterDisposeScope(), m[3].MoveToOuterDisposeScope(),
            m[4].MoveToOuterDisposeScope(), m[5].MoveToOuterDisposeScope());
    }
}
