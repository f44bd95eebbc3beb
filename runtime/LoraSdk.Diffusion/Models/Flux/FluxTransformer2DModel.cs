using System;
using System.Collections.Generic;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>FluxTransformer2DModel</c>: <c>time_text_embed</c>, <c>context_embedder</c>, <c>x_embedder</c>,
/// <c>transformer_blocks.N</c> (<see cref="FluxTransformerBlock"/>), <c>single_transformer_blocks.N</c>
/// (<see cref="FluxSingleTransformerBlock"/>), <c>norm_out</c>, <c>proj_out</c>, with RoPE over the concatenated
/// text and image position ids. Module paths equal diffusers' state-dict names and every Linear is a
/// <see cref="LoraLinear"/>, registered in PyTorch's <c>named_modules()</c> order.
/// </summary>
public sealed class FluxTransformer2DModel : DiffusersModule
{
    private readonly FluxRotaryEmbedding _posEmbed;
    private readonly CombinedTimestepTextProjEmbeddings _timeTextEmbed;
    private readonly LoraLinear _contextEmbedder;
    private readonly LoraLinear _xEmbedder;
    private readonly List<FluxTransformerBlock> _blocks = new();
    private readonly List<FluxSingleTransformerBlock> _singleBlocks = new();
    private readonly AdaLayerNormContinuous _normOut;
    private readonly LoraLinear _projOut;

    /// <summary>Builds the model with default-initialised parameters; load weights next.</summary>
    public FluxTransformer2DModel(FluxTransformer2DConfig config, ModelPlacement placement) : base(nameof(FluxTransformer2DModel))
    {
        Config = config;
        Placement = placement;
        long inner = config.InnerDim;
        var (dt, dev) = (placement.DType, placement.Device);
        _posEmbed = new FluxRotaryEmbedding(config.AxesDimsRope);
        _timeTextEmbed = Register("time_text_embed",
            new CombinedTimestepTextProjEmbeddings(inner, config.PooledProjectionDim, config.GuidanceEmbeds, placement));
        _contextEmbedder = Register("context_embedder", new LoraLinear(config.JointAttentionDim, inner, true, dt, dev));
        _xEmbedder = Register("x_embedder", new LoraLinear(config.InChannels, inner, true, dt, dev));
        for (int i = 0; i < config.NumLayers; i++)
            _blocks.Add(new FluxTransformerBlock(inner, config.NumAttentionHeads, config.AttentionHeadDim, placement));
        Register("transformer_blocks", new ModuleList<FluxTransformerBlock>(_blocks.ToArray()));
        for (int i = 0; i < config.NumSingleLayers; i++)
            _singleBlocks.Add(new FluxSingleTransformerBlock(inner, config.NumAttentionHeads, config.AttentionHeadDim, placement));
        Register("single_transformer_blocks", new ModuleList<FluxSingleTransformerBlock>(_singleBlocks.ToArray()));
        _normOut = Register("norm_out", new AdaLayerNormContinuous(inner, inner, placement));
        _projOut = Register("proj_out", new LoraLinear(inner, (long)config.PatchSize * config.PatchSize * config.OutChannels, true, dt, dev));
    }

    /// <summary>The configuration.</summary>
    public FluxTransformer2DConfig Config { get; }

    /// <summary>The dtype and device the parameters were created with.</summary>
    public ModelPlacement Placement { get; }

    /// <summary>The parameters' dtype (diffusers' <c>transformer.dtype</c>).</summary>
    public ScalarType DType => Placement.DType;

    /// <summary>
    /// The LoRA engine's runtime-scale hook, or null: <see cref="Forward"/> opens it around the whole call when a
    /// <c>jointAttentionScale</c> is given (diffusers' <c>@apply_lora_scale("joint_attention_kwargs")</c>).
    /// </summary>
    public ILoraScaleHook? LoraScaleHook { get; set; }

    /// <summary>
    /// The denoising forward, as diffusers' <c>forward(..., return_dict=False)[0]</c>: (B, N, in) packed latents,
    /// (B, T, joint_attention_dim) T5 embeddings, (B, pooled) CLIP embedding, 1-D <paramref name="timestep"/> in
    /// [0, 1] (the pipeline passes t/1000), (T, 3) text ids, (N, 3) image ids, 1-D <paramref name="guidance"/> (required
    /// with <c>guidance_embeds</c>). <paramref name="jointAttentionScale"/> is <c>joint_attention_kwargs["scale"]</c>:
    /// it scales the LoRA layers for this call through <see cref="LoraScaleHook"/>. Returns (B, N, out).
    /// </summary>
    public Tensor Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor pooledProjections, Tensor timestep,
        Tensor imgIds, Tensor txtIds, Tensor? guidance = null, double? jointAttentionScale = null)
    {
        using var loraScope = jointAttentionScale is double s && LoraScaleHook is not null ? LoraScaleHook.Scale(this, s) : null;
        using var scope = NewDisposeScope();
        Device device = Placement.Device;
        Tensor h = _xEmbedder.call(hiddenStates.to(device));
        ScalarType dtype = h.dtype;
        Tensor t = timestep.to(device).to_type(dtype) * 1000;
        Tensor? g = guidance is null ? null : guidance.to(device).to_type(dtype) * 1000;
        if (t.Dimensions == 0) t = t.unsqueeze(0);
        if (g is not null && g.Dimensions == 0) g = g.unsqueeze(0);
        Tensor temb = _timeTextEmbed.Forward(t, g, pooledProjections.to(device));
        Tensor e = _contextEmbedder.call(encoderHiddenStates.to(device));

        Tensor text = txtIds.Dimensions == 3 ? txtIds[0] : txtIds;
        Tensor image = imgIds.Dimensions == 3 ? imgIds[0] : imgIds;
        var rope = _posEmbed.Forward(cat(new[] { text.to(device), image.to(device) }, 0));

        foreach (var block in _blocks)
            (e, h) = block.Forward(h, e, temb, rope);
        foreach (var block in _singleBlocks)
            (e, h) = block.Forward(h, e, temb, rope);

        h = _normOut.Forward(h, temb);
        return _projOut.call(h).MoveToOuterDisposeScope();
    }
}
