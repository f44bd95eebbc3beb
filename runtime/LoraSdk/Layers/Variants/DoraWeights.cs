using System.Collections.Generic;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// DoRA (weight-decomposed LoRA, PEFT's <c>use_dora</c>): the adapted weight is
/// <c>m / ‖W + s·B·A‖ ⊙ (W + s·B·A)</c>, with the norm per output row (per output channel for Conv2d) treated as a
/// constant, and the learned magnitude <c>m</c> (<c>lora_magnitude_vector</c>). The forward pass adds
/// <c>(m/‖·‖ − 1)·(y − bias) + (m/‖·‖)·s·B·A·x</c> to the layer's running output <c>y</c> — PEFT passes the output with the
/// adapters before this one in, so they are scaled too — and a fuse replaces the weight by the formula above.
/// </summary>
public sealed class DoraWeights : LowRankWeights
{
    internal DoraWeights(string adapterName, Tensor a, Tensor b, Tensor magnitude, int configuredRank, double alpha, bool useRsLora)
        : base(adapterName, a, b, configuredRank, alpha, useRsLora)
    {
        Magnitude = magnitude;
    }

    /// <inheritdoc />
    public override string Variant => LoraVariants.PeftDora;

    /// <summary>The magnitude <c>m</c>: (out) for Linear, (1, out, 1, 1) for Conv2d, as PEFT stores it.</summary>
    public Tensor Magnitude { get; private set; }

    internal override bool JoinsBatchedProduct => false;

    internal override void AddForward(LoraLayer layer, Tensor input, Tensor result, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var weight = layer.Weight.to(result.dtype);
        var loraWeight = Product().to(result.dtype).reshape(weight.shape);
        var magnitudeScale = Magnitude / RowNorm(weight + scale * loraWeight, layer.IsConvolution);
        magnitudeScale = layer.IsConvolution ? magnitudeScale : magnitudeScale.view(1, -1);
        var loraResult = layer.LowRankOutput(input, A, B);
        var baseResult = layer.Bias is null ? result : result - layer.BiasForOutput()!;
        var dora = (magnitudeScale - 1) * baseResult + magnitudeScale * loraResult * scale;
        result.add_(dora);
    }

    internal override void FoldInto(Tensor weight, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var delta = Product().to(weight.dtype) * scale;
        var combined = weight + delta;
        using var noGrad = torch.no_grad();
        var norm = torch.linalg.norm(combined, new long[] { 1 }).to(combined.dtype);
        var factor = (Magnitude.reshape(-1).to(weight.dtype) / norm).view(-1, 1);
        weight.copy_(factor * combined);
    }

    internal override IEnumerable<KeyValuePair<string, Tensor>> SavedTensors(bool upcast)
    {
        foreach (var t in base.SavedTensors(upcast)) yield return t;
        yield return new KeyValuePair<string, Tensor>(SavedTensorNames.For(LoraTensorRole.Magnitude)!, upcast ? Magnitude.to(ScalarType.Float32) : Magnitude);
    }

    /// <summary>B·A as (out, in·kh·kw), unscaled.</summary>
    private Tensor Product() => B.reshape(B.shape[0], -1).mm(A.reshape(A.shape[0], -1));

    /// <summary>PEFT's <c>get_weight_norm</c>: the L2 norm of each output row (Linear) or output channel (Conv2d, shaped (1, out, 1, 1)).</summary>
    private static Tensor RowNorm(Tensor weight, bool convolution)
    {
        if (!convolution) return torch.linalg.norm(weight, new long[] { 1 }).to(weight.dtype);
        return torch.linalg.norm(weight.reshape(weight.shape[0], -1), new long[] { 1 }).reshape(1, -1, 1, 1);
    }

    private protected override void MoveExtraTensors(Device? device, ScalarType? dtype)
    {
        var m = Moved(Magnitude, device, dtype);
        if (!ReferenceEquals(m, Magnitude)) Magnitude.Dispose();
        Magnitude = m;
    }

    internal override void Dispose()
    {
        Magnitude.Dispose();
        base.Dispose();
    }
}
