using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Unet;

/// <summary>
/// diffusers' <c>UNet2DConditionModel</c> for the SD 1.x / 2.x / SDXL family. Module paths equal diffusers'
/// state-dict names (<c>conv_in</c>, <c>time_embedding.linear_1</c>, <c>add_embedding.linear_1</c>,
/// <c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c>, <c>mid_block…</c>, <c>up_blocks…</c>,
/// <c>conv_norm_out</c>, <c>conv_out</c>); every Linear is a <see cref="LoraLinear"/> and every Conv2d a
/// <see cref="LoraConv2d"/>.
/// </summary>
public sealed class UNet2DConditionModel : DiffusersModule
{
    private readonly LoraConv2d _convIn;
    private readonly SinusoidalTimesteps _timeProj;
    private readonly TimestepEmbedding _timeEmbedding;
    private readonly SinusoidalTimesteps? _addTimeProj;
    private readonly TimestepEmbedding? _addEmbedding;
    private readonly Func<Tensor, Tensor>? _timeEmbedAct;
    private readonly List<UNetDownBlock> _downBlocks = new();
    private readonly UNetMidBlock2DCrossAttn? _midBlock;
    private readonly List<UNetUpBlock> _upBlocks = new();
    private readonly GroupNorm _convNormOut;
    private readonly Func<Tensor, Tensor> _convAct;
    private readonly LoraConv2d _convOut;
    private readonly int _numUpsamplers;

    /// <summary>Builds the model with uninitialised (or default-initialised) parameters; load weights next.</summary>
    public UNet2DConditionModel(UNet2DConditionConfig config, ModelPlacement placement) : base(nameof(UNet2DConditionModel))
    {
        Config = config;
        Placement = placement;
        var c = config;
        int n = c.BlockOutChannels.Count;
        long temb = c.TimeEmbeddingDim;
        _convIn = Register("conv_in", new LoraConv2d(c.InChannels, c.BlockOutChannels[0], c.ConvInKernel, 1,
            (c.ConvInKernel - 1) / 2, true, placement.DType, placement.Device));
        _timeProj = new SinusoidalTimesteps(c.BlockOutChannels[0], c.FlipSinToCos, c.FreqShift);
        _timeEmbedding = Register("time_embedding",
            new TimestepEmbedding(c.BlockOutChannels[0], temb, c.ActFn, c.TimestepPostAct, placement));
        if (c.AdditionEmbedType == "text_time")
        {
            _addTimeProj = new SinusoidalTimesteps(c.AdditionTimeEmbedDim!.Value, c.FlipSinToCos, c.FreqShift);
            _addEmbedding = Register("add_embedding",
                new TimestepEmbedding(c.ProjectionClassEmbeddingsInputDim!.Value, temb, "silu", null, placement));
        }
        _timeEmbedAct = c.TimeEmbeddingActFn is null ? null : Activations.Get(c.TimeEmbeddingActFn);

        long outputChannel = c.BlockOutChannels[0];
        for (int i = 0; i < n; i++)
        {
            long inputChannel = outputChannel;
            outputChannel = c.BlockOutChannels[i];
            bool isFinal = i == n - 1;
            UNetDownBlock block = c.DownBlockTypes[i] == "CrossAttnDownBlock2D"
                ? new CrossAttnDownBlock2D(inputChannel, outputChannel, temb, c.LayersPerBlock[i], c.DownTransformerLayers[i],
                    c.NumAttentionHeads[i], c.CrossAttentionDim[i], c.UseLinearProjection, !isFinal, c.NormNumGroups, c.NormEps,
                    c.ActFn, c.ResnetOutScaleFactor, c.DownsamplePadding, placement)
                : new DownBlock2D(inputChannel, outputChannel, temb, c.LayersPerBlock[i], !isFinal, c.NormNumGroups, c.NormEps,
                    c.ActFn, c.ResnetOutScaleFactor, c.DownsamplePadding, placement);
            _downBlocks.Add(block);
        }
        Register("down_blocks", new ModuleList<UNetDownBlock>(_downBlocks.ToArray()));

        if (c.MidBlockType == "UNetMidBlock2DCrossAttn")
        {
            _midBlock = new UNetMidBlock2DCrossAttn(c.BlockOutChannels[n - 1], temb, c.MidTransformerLayers,
                c.NumAttentionHeads[n - 1], c.CrossAttentionDim[n - 1], c.UseLinearProjection, c.NormNumGroups, c.NormEps,
                c.ActFn, c.MidBlockScaleFactor, placement);
        }

        var reversedChannels = c.BlockOutChannels.Reverse().ToArray();
        var reversedHeads = c.NumAttentionHeads.Reverse().ToArray();
        var reversedLayers = c.LayersPerBlock.Reverse().ToArray();
        var reversedCross = c.CrossAttentionDim.Reverse().ToArray();
        outputChannel = reversedChannels[0];
        for (int i = 0; i < n; i++)
        {
            bool isFinal = i == n - 1;
            long prevOutputChannel = outputChannel;
            outputChannel = reversedChannels[i];
            long inputChannel = reversedChannels[Math.Min(i + 1, n - 1)];
            if (!isFinal) _numUpsamplers++;
            int numLayers = reversedLayers[i] + 1;
            UNetUpBlock block = c.UpBlockTypes[i] == "CrossAttnUpBlock2D"
                ? new CrossAttnUpBlock2D(inputChannel, prevOutputChannel, outputChannel, temb, numLayers, c.UpTransformerLayers[i],
                    reversedHeads[i], reversedCross[i], c.UseLinearProjection, !isFinal, c.NormNumGroups, c.NormEps, c.ActFn,
                    c.ResnetOutScaleFactor, placement)
                : new UpBlock2D(inputChannel, prevOutputChannel, outputChannel, temb, numLayers, !isFinal, c.NormNumGroups,
                    c.NormEps, c.ActFn, c.ResnetOutScaleFactor, placement);
            _upBlocks.Add(block);
        }
        Register("up_blocks", new ModuleList<UNetUpBlock>(_upBlocks.ToArray()));
        // diffusers creates the (empty) up_blocks list before assigning mid_block, so named_modules() visits
        // down_blocks, up_blocks, mid_block; PEFT's per-module order (e.g. DARE's random masks) depends on it.
        if (_midBlock is not null) Register("mid_block", _midBlock);

        _convNormOut = Register("conv_norm_out", nn.GroupNorm(c.NormNumGroups, c.BlockOutChannels[0], c.NormEps, true,
            placement.Device, placement.DType));
        _convAct = Activations.Get(c.ActFn);
        _convOut = Register("conv_out", new LoraConv2d(c.BlockOutChannels[0], c.OutChannels, c.ConvOutKernel, 1,
            (c.ConvOutKernel - 1) / 2, true, placement.DType, placement.Device));
    }

    /// <summary>The configuration the model was built from.</summary>
    public UNet2DConditionConfig Config { get; }

    /// <summary>The dtype and device the parameters were created with.</summary>
    public ModelPlacement Placement { get; }

    /// <summary>Input width of <c>add_embedding.linear_1</c> (diffusers checks the added-time-ids width against it), or null.</summary>
    public long? AddEmbeddingInFeatures => _addEmbedding?.InFeatures;

    /// <summary>
    /// The hook that applies a runtime LoRA scale (<c>cross_attention_kwargs["scale"]</c>) for one forward; set by the
    /// LoRA engine (the pipeline propagates its own hook here).
    /// </summary>
    public ILoraScaleHook? LoraScaleHook { get; set; }

    /// <summary>
    /// The denoising forward: returns the (B, out, H, W) prediction. <paramref name="timestep"/> is a 0-d or 1-d
    /// tensor (broadcast to the batch); for <c>addition_embed_type="text_time"</c>, <paramref name="textEmbeds"/>
    /// (B, pooled) and <paramref name="timeIds"/> (B, 6) are required. <paramref name="crossAttentionScale"/> is
    /// diffusers' <c>cross_attention_kwargs["scale"]</c>: it scales the UNet's LoRA layers for this call through
    /// <see cref="LoraScaleHook"/>.
    /// </summary>
    public Tensor Forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor? textEmbeds = null,
        Tensor? timeIds = null, double? crossAttentionScale = null)
    {
        if (CudaGraph.IsCaptureUnderway) RequireOnDevice(sample.device, ("encoder_hidden_states", encoderHiddenStates));
        using var loraScope = crossAttentionScale is double s && LoraScaleHook is not null ? LoraScaleHook.Scale(this, s) : null;
        using var scope = NewDisposeScope();
        long overallUpFactor = 1L << _numUpsamplers;
        bool forwardUpsampleSize = sample.shape[^2] % overallUpFactor != 0 || sample.shape[^1] % overallUpFactor != 0;

        Tensor x = sample;
        if (Config.CenterInputSample) x = x * 2 - 1.0;

        Tensor emb = ConditioningEmbedding(sample, timestep, textEmbeds, timeIds);

        x = _convIn.call(x);
        var skips = new List<Tensor> { x };
        foreach (var block in _downBlocks)
        {
            var (hidden, blockSkips) = block.Forward(x, emb, encoderHiddenStates);
            x = hidden;
            skips.AddRange(blockSkips);
        }
        if (_midBlock is not null) x = _midBlock.Forward(x, emb, encoderHiddenStates);

        for (int i = 0; i < _upBlocks.Count; i++)
        {
            var block = _upBlocks[i];
            bool isFinal = i == _upBlocks.Count - 1;
            int count = block.ResnetCount;
            var blockSkips = skips.GetRange(skips.Count - count, count);
            skips.RemoveRange(skips.Count - count, count);
            long[]? upsampleSize = null;
            if (!isFinal && forwardUpsampleSize)
            {
                long[] shape = skips[^1].shape;
                upsampleSize = new[] { shape[2], shape[3] };
            }
            x = block.Forward(x, blockSkips, emb, encoderHiddenStates, upsampleSize);
        }

        x = _convNormOut.call(x);
        x = _convAct(x);
        x = _convOut.call(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The (B, time_embed_dim) conditioning every resnet receives: diffusers' <c>get_time_embed</c> (sinusoidal features
    /// of <paramref name="timestep"/>, broadcast to the batch), <c>time_embedding</c>, plus <c>get_aug_embed</c> for
    /// <c>addition_embed_type="text_time"</c> (<paramref name="textEmbeds"/> and the features of
    /// <paramref name="timeIds"/> through <c>add_embedding</c>), then <c>time_embed_act</c>.
    /// </summary>
    /// <remarks>
    /// Capturable in a CUDA graph when every tensor is on the sample's device: no host synchronisation and no CPU tensor
    /// (the sinusoidal frequencies are cached per device). A CPU <paramref name="timestep"/> is copied to the device
    /// (fine eagerly; refused while a capture is under way, since that copy cannot be captured).
    /// </remarks>
    public Tensor ConditioningEmbedding(Tensor sample, Tensor timestep, Tensor? textEmbeds = null, Tensor? timeIds = null)
    {
        if (CudaGraph.IsCaptureUnderway) RequireOnDevice(sample.device, ("timestep", timestep), ("text_embeds", textEmbeds), ("time_ids", timeIds));
        using var scope = NewDisposeScope();
        Tensor timesteps = timestep.Dimensions == 0 ? timestep.unsqueeze(0) : timestep;
        timesteps = timesteps.to(sample.device).expand(sample.shape[0]);
        Tensor tEmb = _timeProj.Embed(timesteps).to_type(sample.dtype);
        Tensor emb = _timeEmbedding.call(tEmb);

        if (_addEmbedding is not null)
        {
            if (textEmbeds is null)
                throw new ArgumentException("addition_embed_type 'text_time' requires `text_embeds` in the added conditions", nameof(textEmbeds));
            if (timeIds is null)
                throw new ArgumentException("addition_embed_type 'text_time' requires `time_ids` in the added conditions", nameof(timeIds));
            Tensor timeEmbeds = _addTimeProj!.Embed(timeIds.flatten()).reshape(textEmbeds.shape[0], -1);
            Tensor addEmbeds = cat(new[] { textEmbeds, timeEmbeds.to_type(textEmbeds.dtype) }, -1).to_type(emb.dtype);
            emb = emb + _addEmbedding.call(addEmbeds);
        }
        if (_timeEmbedAct is not null) emb = _timeEmbedAct(emb);
        return emb.MoveToOuterDisposeScope();
    }

    /// <summary>Frees the cached sinusoidal frequencies with the module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timeProj.Dispose();
            _addTimeProj?.Dispose();
        }
        base.Dispose(disposing);
    }

    private static void RequireOnDevice(Device device, params (string Name, Tensor? Tensor)[] tensors)
    {
        foreach (var (name, tensor) in tensors)
        {
            if (tensor is not null && (tensor.device_type != device.type || tensor.device_index != device.index))
            {
                throw new CudaGraphException(CudaGraphErrorKind.InvalidArgument,
                    $"`{name}` is on '{tensor.device}' while a CUDA graph is being captured on '{device}': pass it on the model's device (a copy from the host cannot be captured).");
            }
        }
    }
}
