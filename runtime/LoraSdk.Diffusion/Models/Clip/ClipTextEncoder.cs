using System;
using System.Collections.Generic;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextTransformer</c> laid out at the model's top level (the transformers ≥ 5 layout without
/// <c>text_model.</c>): <c>embeddings</c>, <c>encoder.layers.N</c>, <c>final_layer_norm</c>. Checkpoints with the
/// classic <c>text_model.</c> prefix load too (the loader maps them). Base of <see cref="ClipTextModel"/> and
/// <see cref="ClipTextModelWithProjection"/>.
/// </summary>
public abstract class ClipTextEncoder : DiffusersModule
{
    private readonly ClipTextEmbeddings _embeddings;
    private readonly ClipEncoder _encoder;
    private readonly LayerNorm _finalLayerNorm;

    /// <summary>Builds the shared part.</summary>
    protected ClipTextEncoder(string name, ClipTextConfig config, ModelPlacement placement) : base(name)
    {
        Config = config;
        Placement = placement;
        _embeddings = Register("embeddings", new ClipTextEmbeddings(config, placement));
        _encoder = Register("encoder", new ClipEncoder(config, placement));
        _finalLayerNorm = Register("final_layer_norm", nn.LayerNorm(config.HiddenSize, config.LayerNormEps, true, true, placement.Device, placement.DType));
    }

    /// <summary>The configuration.</summary>
    public ClipTextConfig Config { get; }

    /// <summary>The dtype and device the parameters were created with.</summary>
    public ModelPlacement Placement { get; }

    /// <summary>The parameters' dtype (diffusers' <c>text_encoder.dtype</c>).</summary>
    public ScalarType DType => Placement.DType;

    /// <summary>Encodes (B, L) int64 token ids (causal attention, no padding mask, as SDXL calls it).</summary>
    public ClipTextOutput Forward(Tensor inputIds)
    {
        if (inputIds.dtype != ScalarType.Int64)
            throw new ArgumentException("input_ids must be an int64 tensor", nameof(inputIds));
        using var scope = NewDisposeScope();
        Tensor ids = inputIds.view(-1, inputIds.shape[^1]).to(Placement.Device);
        Tensor embeddings = _embeddings.call(ids);
        var hidden = _encoder.Forward(embeddings);
        Tensor last = _finalLayerNorm.call(hidden[^1]);
        Tensor poolIndex = Config.EosTokenId == 2
            ? ids.to_type(ScalarType.Int32).argmax(-1)
            : ids.to_type(ScalarType.Int32).eq(Config.EosTokenId).to_type(ScalarType.Int32).argmax(-1);
        Tensor rows = arange(last.shape[0], ScalarType.Int64, last.device);
        Tensor pooled = last.index(new TensorIndex[] { TensorIndex.Tensor(rows), TensorIndex.Tensor(poolIndex) });
        Tensor? projected = Project(pooled);

        var kept = new List<Tensor>(hidden.Count);
        foreach (var t in hidden) kept.Add(t.MoveToOuterDisposeScope());
        return new ClipTextOutput(last.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope(), kept,
            projected?.MoveToOuterDisposeScope());
    }

    /// <summary>The projection of the pooled output, or null when the model has none.</summary>
    protected abstract Tensor? Project(Tensor pooled);
}
