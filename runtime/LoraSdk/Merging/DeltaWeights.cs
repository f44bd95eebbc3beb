using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>
/// PEFT's <c>get_delta_weight</c> of one adapter on one layer: scaling · B·A for Linear; for Conv2d the
/// <c>(out, in, kh, kw)</c> kernel delta (a matmul for 1×1 kernels, <c>conv2d(Aᵀ, B)ᵀ</c> otherwise, as PEFT computes it).
/// </summary>
internal static class DeltaWeights
{
    public static Tensor Of(Tensor a, Tensor b, double scaling)
    {
        if (a.dim() == 2) return b.matmul(a) * scaling;
        if (a.shape[2] == 1 && a.shape[3] == 1)
        {
            return b.squeeze(3).squeeze(2).matmul(a.squeeze(3).squeeze(2)).unsqueeze(2).unsqueeze(3) * scaling;
        }
        return nn.functional.conv2d(a.transpose(0, 1), b).transpose(0, 1) * scaling;
    }
}
