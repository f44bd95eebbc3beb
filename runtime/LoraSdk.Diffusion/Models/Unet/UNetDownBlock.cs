using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>A UNet down block: returns its output and the skip tensors the up blocks consume.</summary>
public abstract class UNetDownBlock : DiffusersModule
{
    /// <summary>Creates the block.</summary>
    protected UNetDownBlock(string name) : base(name) { }

    /// <summary>True when the block has cross-attention transformers.</summary>
    public abstract bool HasCrossAttention { get; }

    /// <summary>
    /// Applies the block. The returned skip list holds one tensor per resnet plus one for the down-sampler; the
    /// returned hidden state is the last of them. All returned tensors belong to the caller's dispose scope.
    /// </summary>
    public abstract (Tensor Hidden, IReadOnlyList<Tensor> Skips) Forward(Tensor hiddenStates, Tensor temb, Tensor? encoderHiddenStates);
}
