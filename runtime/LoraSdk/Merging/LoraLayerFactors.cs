using System;
using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>
/// One source adapter's LoRA factors on one layer. Not owned: the merger reads the tensors and never changes or
/// disposes them.
/// </summary>
public sealed class LoraLayerFactors
{
    /// <summary>Creates the factors of one layer.</summary>
    /// <param name="a">lora_A (down): (r, in) for Linear, (r, in, kh, kw) for Conv2d.</param>
    /// <param name="b">lora_B (up): (out, r) for Linear, (out, r, 1, 1) for Conv2d.</param>
    /// <param name="scaling">The layer's PEFT scaling of this adapter (alpha/r, or alpha/√r with rsLoRA).</param>
    public LoraLayerFactors(Tensor a, Tensor b, double scaling)
    {
        A = a ?? throw new ArgumentNullException(nameof(a));
        B = b ?? throw new ArgumentNullException(nameof(b));
        Scaling = scaling;
    }

    /// <summary>lora_A (down).</summary>
    public Tensor A { get; }

    /// <summary>lora_B (up).</summary>
    public Tensor B { get; }

    /// <summary>The scaling PEFT applies to B·A for this adapter on this layer.</summary>
    public double Scaling { get; }

    /// <summary>True for a Conv2d layer (4-D factors).</summary>
    public bool IsConv => A.dim() == 4;
}
