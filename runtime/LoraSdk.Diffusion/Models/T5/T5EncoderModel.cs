using System;
using System.Collections.Generic;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>
/// transformers' <c>T5EncoderModel</c> (Flux's <c>text_encoder_2</c>): <c>shared</c> (the token embedding, which the
/// encoder uses as <c>embed_tokens</c>), <c>encoder.block.N.layer.{0,1}</c>, <c>encoder.final_layer_norm</c>. Every
/// Linear (<c>q</c>, <c>k</c>, <c>v</c>, <c>o</c>, <c>wi_0</c>, <c>wi_1</c>, <c>wo</c>) is a <see cref="LoraLinear"/>.
/// Runs without an attention mask, as FluxPipeline calls it (padding tokens take part in attention).
/// </summary>
public sealed class T5EncoderModel : DiffusersModule
{
    private readonly Embedding _shared;
    private readonly T5Stack _encoder;

    /// <summary>Builds the model; load weights next.</summary>
    public T5EncoderModel(T5Config config, ModelPlacement placement) : base(nameof(T5EncoderModel))
    {
        Config = config;
        Placement = placement;
        _shared = Register("shared", nn.Embedding(config.VocabSize, config.DModel, device: placement.Device, dtype: placement.DType));
        _encoder = Register("encoder", new T5Stack(config, placement));
    }

    /// <summary>The configuration.</summary>
    public T5Config Config { get; }

    /// <summary>The dtype and device the parameters were created with.</summary>
    public ModelPlacement Placement { get; }

    /// <summary>The parameters' dtype (diffusers' <c>text_encoder_2.dtype</c>).</summary>
    public ScalarType DType => Placement.DType;

    /// <summary>The (B, L, d_model) <c>last_hidden_state</c> of (B, L) int64 token ids.</summary>
    public Tensor Forward(Tensor inputIds)
    {
        if (inputIds.dtype != ScalarType.Int64)
            throw new ArgumentException("input_ids must be an int64 tensor", nameof(inputIds));
        using var scope = NewDisposeScope();
        Tensor ids = inputIds.view(-1, inputIds.shape[^1]).to(Placement.Device);
        return _encoder.Forward(_shared.call(ids)).MoveToOuterDisposeScope();
    }
}
