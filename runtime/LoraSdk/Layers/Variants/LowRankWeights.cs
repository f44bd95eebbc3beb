using System;
using System.Collections.Generic;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// LoRA: the update is <c>scaling · B · A</c> (PEFT's <c>lora_A</c> / <c>lora_B</c>). Plain low-rank adapters of a layer
/// run together as one product over their concatenated factors.
/// </summary>
public class LowRankWeights : AdapterWeights
{
    internal LowRankWeights(string adapterName, Tensor a, Tensor b, int configuredRank, double alpha, bool useRsLora)
        : base(adapterName, configuredRank, alpha, useRsLora)
    {
        A = a;
        B = b;
    }

    /// <inheritdoc />
    public override string Variant => LoraVariants.Lora;

    /// <summary>
    /// <c>lora_A</c>: (rank, in) for Linear, (rank, in, kh, kw) for Conv2d (same kernel, stride and padding as the
    /// base convolution).
    /// </summary>
    public Tensor A { get; private set; }

    /// <summary><c>lora_B</c>: (out, rank) for Linear, (out, rank, 1, 1) for Conv2d.</summary>
    public Tensor B { get; private set; }

    /// <summary>The rank of the stored tensors (larger than <see cref="AdapterWeights.ConfiguredRank"/> after hotswap padding).</summary>
    public int TensorRank => (int)A.shape[0];

    /// <inheritdoc />
    public override Device Device => A.device;

    /// <inheritdoc />
    public override ScalarType DType => A.dtype;

    internal override bool JoinsBatchedProduct => true;

    internal override void AddForward(LoraLayer layer, Tensor input, Tensor result, double scale) =>
        layer.AddLowRank(input, result, A, B, scale);

    internal override void FoldInto(Tensor weight, double scale)
    {
        using var scope = torch.NewDisposeScope();
        long r = TensorRank;
        var b = B.reshape(weight.shape[0], r);
        var a = A.reshape(r, -1);
        if (b.dtype != weight.dtype) b = b.to(weight.dtype);
        if (a.dtype != weight.dtype) a = a.to(weight.dtype);
        weight.addmm_(b, a, 1f, (float)scale);
    }

    internal override IEnumerable<KeyValuePair<string, Tensor>> SavedTensors(bool upcast)
    {
        // Hotswap storage is zero-padded to the target rank; the padding is not part of the adapter.
        Tensor a = TensorRank == ConfiguredRank ? A : A.narrow(0, 0, ConfiguredRank).contiguous();
        // While a graph pin holds the adapter, B may be a strided view of the pin's factor store.
        Tensor b = TensorRank == ConfiguredRank ? (B.is_contiguous() ? B : B.contiguous()) : B.narrow(1, 0, ConfiguredRank).contiguous();
        yield return new KeyValuePair<string, Tensor>(SavedTensorNames.For(LoraTensorRole.A)!, upcast ? a.to(ScalarType.Float32) : a);
        yield return new KeyValuePair<string, Tensor>(SavedTensorNames.For(LoraTensorRole.B)!, upcast ? b.to(ScalarType.Float32) : b);
    }

    /// <summary>Replaces both factors (hotswap padding); the old tensors are disposed.</summary>
    internal void ReplaceFactors(Tensor a, Tensor b)
    {
        if (!ReferenceEquals(a, A)) A.Dispose();
        if (!ReferenceEquals(b, B)) B.Dispose();
        A = a;
        B = b;
        Touch();
    }

    private protected override void MoveTensors(Device? device, ScalarType? dtype)
    {
        var a = Moved(A, device, dtype);
        var b = Moved(B, device, dtype);
        if (!ReferenceEquals(a, A)) A.Dispose();
        if (!ReferenceEquals(b, B)) B.Dispose();
        A = a;
        B = b;
        MoveExtraTensors(device, dtype);
    }

    /// <summary>Moves the tensors a derived variant adds.</summary>
    private protected virtual void MoveExtraTensors(Device? device, ScalarType? dtype)
    {
    }

    internal override void Dispose()
    {
        A.Dispose();
        B.Dispose();
        base.Dispose();
    }
}
