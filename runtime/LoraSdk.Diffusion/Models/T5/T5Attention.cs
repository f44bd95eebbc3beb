using System;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>
/// transformers' <c>T5Attention</c> for the encoder (bidirectional, no scaling of the scores): <c>q</c>, <c>k</c>,
/// <c>v</c>, <c>o</c> (no bias) and, in the first block only, <c>relative_attention_bias</c> (buckets × heads), whose
/// position bias every later block reuses.
/// </summary>
public sealed class T5Attention : DiffusersModule
{
    private readonly int _heads;
    private readonly int _dKv;
    private readonly int _numBuckets;
    private readonly int _maxDistance;
    private readonly LoraLinear _q;
    private readonly LoraLinear _k;
    private readonly LoraLinear _v;
    private readonly LoraLinear _o;
    private readonly Embedding? _relativeAttentionBias;

    /// <summary>Creates the attention; <paramref name="hasRelativeAttentionBias"/> for the first block.</summary>
    public T5Attention(T5Config config, bool hasRelativeAttentionBias, ModelPlacement placement) : base(nameof(T5Attention))
    {
        _heads = config.NumHeads;
        _dKv = config.DKv;
        _numBuckets = config.RelativeAttentionNumBuckets;
        _maxDistance = config.RelativeAttentionMaxDistance;
        long inner = (long)_heads * _dKv;
        var (dt, dev) = (placement.DType, placement.Device);
        _q = Register("q", new LoraLinear(config.DModel, inner, false, dt, dev));
        _k = Register("k", new LoraLinear(config.DModel, inner, false, dt, dev));
        _v = Register("v", new LoraLinear(config.DModel, inner, false, dt, dev));
        _o = Register("o", new LoraLinear(inner, config.DModel, false, dt, dev));
        if (hasRelativeAttentionBias)
            _relativeAttentionBias = Register("relative_attention_bias", nn.Embedding(_numBuckets, _heads, device: dev, dtype: dt));
    }

    /// <summary>
    /// Self-attention of (B, L, D) <paramref name="hiddenStates"/>. <paramref name="positionBias"/> is the (1, H, L, L)
    /// bias of the first block (null in the first block, which computes and returns it).
    /// </summary>
    public (Tensor Output, Tensor PositionBias) Forward(Tensor hiddenStates, Tensor? positionBias)
    {
        using var scope = NewDisposeScope();
        long batch = hiddenStates.shape[0], length = hiddenStates.shape[1];
        Tensor q = _q.call(hiddenStates).view(batch, -1, _heads, _dKv).transpose(1, 2);
        Tensor k = _k.call(hiddenStates).view(batch, -1, _heads, _dKv).transpose(1, 2);
        Tensor v = _v.call(hiddenStates).view(batch, -1, _heads, _dKv).transpose(1, 2);
        Tensor scores = matmul(q, k.transpose(3, 2));
        Tensor bias = positionBias ?? ComputeBias(length, length, scores.device, scores.dtype);
        scores = scores + bias;
        Tensor weights = scores.to_type(ScalarType.Float32).softmax(-1).to_type(scores.dtype);
        Tensor attended = matmul(weights, v).transpose(1, 2).contiguous().view(batch, -1, (long)_heads * _dKv);
        Tensor output = _o.call(attended);
        return (output.MoveToOuterDisposeScope(), (positionBias is null ? bias.MoveToOuterDisposeScope() : positionBias));
    }

    private Tensor ComputeBias(long queryLength, long keyLength, Device device, ScalarType dtype)
    {
        if (_relativeAttentionBias is null)
            throw new InvalidOperationException("only the first T5 block has relative_attention_bias; pass its position bias");
        using var scope = NewDisposeScope();
        Tensor context = arange(queryLength, ScalarType.Int64, device).unsqueeze(1);
        Tensor memory = arange(keyLength, ScalarType.Int64, device).unsqueeze(0);
        Tensor buckets = RelativePositionBucket(memory - context, _numBuckets, _maxDistance);
        Tensor values = _relativeAttentionBias.call(buckets);
        return values.permute(2, 0, 1).unsqueeze(0).to_type(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// transformers' bidirectional <c>_relative_position_bucket</c>: half the buckets per direction, exact buckets for
    /// distances below a quarter of <paramref name="numBuckets"/>, log-spaced ones up to <paramref name="maxDistance"/>
    /// (computed with the same float32 tensor operations).
    /// </summary>
    public static Tensor RelativePositionBucket(Tensor relativePosition, int numBuckets, int maxDistance)
    {
        using var scope = NewDisposeScope();
        int half = numBuckets / 2;
        Tensor buckets = relativePosition.gt(0).to_type(ScalarType.Int64) * half;
        Tensor distance = relativePosition.abs();
        int maxExact = half / 2;
        Tensor isSmall = distance.lt(maxExact);
        Tensor large = (distance.to_type(ScalarType.Float32) / maxExact).log() / Math.Log((double)maxDistance / maxExact) * (half - maxExact);
        Tensor ifLarge = large.to_type(ScalarType.Int64) + maxExact;
        ifLarge = minimum(ifLarge, full_like(ifLarge, half - 1));
        buckets = buckets + where(isSmall, distance, ifLarge);
        return buckets.MoveToOuterDisposeScope();
    }
}
