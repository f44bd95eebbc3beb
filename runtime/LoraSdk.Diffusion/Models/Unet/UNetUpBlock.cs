using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>A UNet up block: consumes one skip tensor per resnet (last first).</summary>
public abstract class UNetUpBlock : DiffusersModule
{
    /// <summary>Creates the block.</summary>
    protected UNetUpBlock(string name) : base(name) { }

    /// <summary>Number of resnets (= skip tensors consumed).</summary>
    public abstract int ResnetCount { get; }

    /// <summary>True when the block has cross-attention transformers.</summary>
    public abstract bool HasCrossAttention { get; }

    /// <summary>
    /// Applies the block. <paramref name="skips"/> holds <see cref="ResnetCount"/> tensors; the last is used first.
    /// <paramref name="upsampleSize"/> forces the up-sampler's output size (H, W) when the input is not a multiple
    /// of the overall up-sampling factor.
    /// </summary>
    public abstract Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor? encoderHiddenStates, long[]? upsampleSize);
}
