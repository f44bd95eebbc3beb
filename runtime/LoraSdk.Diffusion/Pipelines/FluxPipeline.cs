using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Flux;
using LoraSdk.Diffusion.Models.T5;
using LoraSdk.Diffusion.Models.Vae;
using LoraSdk.Diffusion.Randomness;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// diffusers' <c>FluxPipeline</c> (text-to-image) on TorchSharp: <see cref="EncodePrompt"/> and <see cref="Generate"/>
/// follow diffusers' code path step by step (CLIP pooled + T5 embeddings, packed 2×2 latents with RoPE ids, the
/// flow-matching Euler loop with embedded guidance, VAE decode with shift), so float32 results agree with diffusers to
/// rounding. Load with <see cref="FromPretrained"/>. Its LoRA API is diffusers' (<c>pipe.LoadLoraWeights</c>,
/// <c>pipe.SetAdapters</c>, …, see <see cref="LoraPipeline"/>) over <c>transformer</c> and <c>text_encoder</c> (CLIP),
/// diffusers' <c>FluxLoraLoaderMixin</c> components; every Flux LoRA layout diffusers reads loads (PEFT, kohya,
/// XLabs, BFL). <see cref="FluxCallOptions.JointAttentionScale"/> is the runtime LoRA scale.
/// </summary>
public sealed class FluxPipeline : LoraPipeline, IDiffusionPipeline
{
    /// <summary>The tensor names a step-end callback may request (diffusers' <c>_callback_tensor_inputs</c>).</summary>
    public static readonly IReadOnlyList<string> CallbackTensorInputs = new[] { "latents", "prompt_embeds" };

    /// <summary>The largest T5 sequence length FluxPipeline accepts.</summary>
    public const int MaxSequenceLengthLimit = 512;

    private ILoraScaleHook? _loraScaleHook;

    /// <summary>Assembles a pipeline from loaded components (takes ownership of the modules).</summary>
    public FluxPipeline(FluxTransformer2DModel transformer, AutoencoderKL vae, ClipTextModel? textEncoder, T5EncoderModel? textEncoder2,
        ClipTokenizer? tokenizer, T5Tokenizer? tokenizer2, FlowMatchEulerDiscreteScheduler scheduler, string? sourceFolder = null)
    {
        Transformer = transformer ?? throw new ArgumentNullException(nameof(transformer));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        TextEncoder = textEncoder;
        TextEncoder2 = textEncoder2;
        Tokenizer = tokenizer;
        Tokenizer2 = tokenizer2;
        Scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        SourceFolder = sourceFolder;
    }

    /// <summary>The denoiser (component <c>transformer</c>).</summary>
    public FluxTransformer2DModel Transformer { get; }

    /// <inheritdoc />
    public string ClassName => "FluxPipeline";

    /// <summary>The autoencoder (component <c>vae</c>).</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>CLIP text encoder, for the pooled embedding (component <c>text_encoder</c>), or null.</summary>
    public ClipTextModel? TextEncoder { get; }

    /// <summary>T5 encoder, for the sequence embeddings (component <c>text_encoder_2</c>), or null.</summary>
    public T5EncoderModel? TextEncoder2 { get; }

    /// <summary>Tokenizer of <see cref="TextEncoder"/>, or null.</summary>
    public ClipTokenizer? Tokenizer { get; }

    /// <summary>Tokenizer of <see cref="TextEncoder2"/>, or null.</summary>
    public T5Tokenizer? Tokenizer2 { get; }

    /// <summary>The scheduler (stateful: one call at a time).</summary>
    public FlowMatchEulerDiscreteScheduler Scheduler { get; }

    /// <summary>The folder the pipeline was loaded from, or null.</summary>
    public string? SourceFolder { get; }

    /// <summary>VAE down-sampling factor (<c>vae_scale_factor</c>, 8 for FLUX.1).</summary>
    public int VaeScaleFactor => Vae.ScaleFactor;

    /// <summary><c>tokenizer_max_length</c> (CLIP's <c>model_max_length</c>, 77 when there is no tokenizer).</summary>
    public int TokenizerMaxLength => Tokenizer?.ModelMaxLength ?? 77;

    /// <summary><c>default_sample_size</c> (128: 1024-pixel images).</summary>
    public int DefaultSampleSize => 128;

    /// <summary>The components by diffusers name (<c>transformer</c>, <c>vae</c>, <c>text_encoder</c>, <c>text_encoder_2</c>).</summary>
    public IReadOnlyDictionary<string, nn.Module> Components
    {
        get
        {
            var d = new Dictionary<string, nn.Module>(StringComparer.Ordinal) { [PipelineComponentNames.Transformer] = Transformer, [PipelineComponentNames.Vae] = Vae };
            if (TextEncoder is not null) d[PipelineComponentNames.TextEncoder] = TextEncoder;
            if (TextEncoder2 is not null) d[PipelineComponentNames.TextEncoder2] = TextEncoder2;
            return d;
        }
    }

    /// <summary>
    /// The runtime-scale hook (<c>joint_attention_kwargs["scale"]</c> for the transformer, <c>lora_scale</c> of
    /// <see cref="EncodePrompt"/> for the text encoders): the pipeline's own <see cref="LoraPipeline.Lora"/> installs
    /// itself here on first use; set it only to plug in another LoRA engine. Setting it also sets
    /// <see cref="FluxTransformer2DModel.LoraScaleHook"/>.
    /// </summary>
    public ILoraScaleHook? LoraScaleHook
    {
        get => _loraScaleHook;
        set
        {
            _loraScaleHook = value;
            Transformer.LoraScaleHook = value;
        }
    }

    /// <inheritdoc />
    private protected override LoraAdapterManager CreateLoraManager() => FluxLora.CreateManager(this);

    /// <inheritdoc />
    private protected override void InstallScaleHook(ILoraScaleHook hook) => LoraScaleHook = hook;

    /// <summary>diffusers' <c>FluxLoraLoaderMixin.fuse_lora(components=["transformer"])</c>: the text encoder is not fused by default.</summary>
    private protected override IReadOnlyList<string>? FuseComponents { get; } = new[] { LoraSdk.Core.LoraComponents.Transformer };

    /// <summary>Loads a diffusers FluxPipeline folder (see <see cref="Loading.FluxPipelineLoader"/>).</summary>
    public static FluxPipeline FromPretrained(string folder, Loading.ModelLoadOptions? options = null) =>
        Loading.FluxPipelineLoader.Load(folder, options);

    /// <summary>
    /// diffusers' <c>encode_prompt</c>: CLIP's <c>pooler_output</c> of <paramref name="prompt"/> (padded to
    /// <see cref="TokenizerMaxLength"/>), T5's last hidden state of <paramref name="prompt2"/> (default
    /// <paramref name="prompt"/>, padded to <paramref name="maxSequenceLength"/>, no attention mask), and zero text
    /// ids. <paramref name="loraScale"/> scales the text encoders' LoRA layers for this call through
    /// <see cref="LoraScaleHook"/>.
    /// </summary>
    public FluxPromptEmbeddings EncodePrompt(string? prompt, string? prompt2 = null, int numImagesPerPrompt = 1,
        Tensor? promptEmbeds = null, Tensor? pooledPromptEmbeds = null, int maxSequenceLength = 512, double? loraScale = null)
    {
        if (numImagesPerPrompt < 1) throw new PipelineArgumentException("num_images_per_prompt", "num_images_per_prompt must be at least 1");
        if (maxSequenceLength > MaxSequenceLengthLimit)
            throw new PipelineArgumentException("max_sequence_length", $"`max_sequence_length` cannot be greater than {MaxSequenceLengthLimit} but is {maxSequenceLength}");
        if (maxSequenceLength < 1) throw new PipelineArgumentException("max_sequence_length", "`max_sequence_length` must be at least 1");
        using var scaleTe1 = loraScale is double s1 && LoraScaleHook is not null && TextEncoder is not null ? LoraScaleHook.Scale(TextEncoder, s1) : null;
        using var scaleTe2 = loraScale is double s2 && LoraScaleHook is not null && TextEncoder2 is not null ? LoraScaleHook.Scale(TextEncoder2, s2) : null;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Device device = Transformer.Placement.Device;

        Tensor pe, ppe;
        if (promptEmbeds is null)
        {
            if (prompt is null) throw new PipelineArgumentException("prompt", "Provide either `prompt` or `prompt_embeds`. Cannot leave both `prompt` and `prompt_embeds` undefined.");
            ppe = ClipPooled(prompt, device);
            pe = T5Embeds(prompt2 ?? prompt, maxSequenceLength, device);
        }
        else
        {
            pe = promptEmbeds.to(device);
            ppe = (pooledPromptEmbeds ?? throw new PipelineArgumentException("pooled_prompt_embeds",
                "If `prompt_embeds` are provided, `pooled_prompt_embeds` also have to be passed. Make sure to generate `pooled_prompt_embeds` from the same text encoder that was used to generate `prompt_embeds`.")).to(device);
        }
        long batch = pe.shape[0], seqLen = pe.shape[1];
        Tensor outPe = pe.repeat(1, numImagesPerPrompt, 1).view(batch * numImagesPerPrompt, seqLen, -1).clone();
        Tensor outPpe = ppe.repeat(1, numImagesPerPrompt).view(ppe.shape[0] * numImagesPerPrompt, -1).clone();
        ScalarType idsType = TextEncoder?.DType ?? Transformer.DType;
        Tensor textIds = zeros(new[] { seqLen, 3L }, idsType, device);
        return new FluxPromptEmbeddings(outPe.MoveToOuterDisposeScope(), outPpe.MoveToOuterDisposeScope(), textIds.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// diffusers' <c>__call__</c>: checks the inputs (before anything runs), encodes the prompt, draws or takes the
    /// packed initial latents, sets the shifted flow-matching schedule (<c>mu</c> from the image sequence length),
    /// runs the Euler loop with the embedded guidance, calls <see cref="FluxCallOptions.CallbackOnStepEnd"/> and
    /// reports progress after every step, and decodes with the VAE.
    /// </summary>
    /// <exception cref="PipelineArgumentException">An invalid argument (diffusers' <c>ValueError</c>s of <c>check_inputs</c>).</exception>
    public FluxOutput Generate(FluxCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int height = options.Height ?? DefaultSampleSize * VaeScaleFactor;
        int width = options.Width ?? DefaultSampleSize * VaeScaleFactor;
        CheckInputs(options, height, width);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Device device = Transformer.Placement.Device;
        using var embeddings = EncodePrompt(options.Prompt, options.Prompt2, options.NumImagesPerPrompt, options.PromptEmbeds,
            options.PooledPromptEmbeds, options.MaxSequenceLength, options.JointAttentionScale);
        Tensor promptEmbeds = embeddings.PromptEmbeds;
        Tensor pooled = embeddings.PooledPromptEmbeds;
        Tensor textIds = embeddings.TextIds;
        int batch = (int)promptEmbeds.shape[0];

        int channels = Transformer.Config.InChannels / 4;
        var (latents, imageIds) = PrepareLatents(batch, channels, height, width, promptEmbeds.dtype, device, options);

        IReadOnlyList<double> sigmas = options.Sigmas ?? FlowMatchEulerDiscreteScheduler.PipelineSigmas(options.NumInferenceSteps);
        double mu = Scheduler.CalculateShift(latents.shape[1]);
        Scheduler.SetTimesteps(null, sigmas, mu);
        float[] timesteps = Scheduler.Timesteps;

        Tensor? guidance = Transformer.Config.GuidanceEmbeds
            ? full(new long[] { 1 }, (float)options.GuidanceScale, ScalarType.Float32, device).expand(latents.shape[0])
            : null;

        Scheduler.SetBeginIndex(0);
        for (int i = 0; i < timesteps.Length; i++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            float t = timesteps[i];
            using (var step = NewDisposeScope())
            {
                Tensor timestep = tensor(t, ScalarType.Float32, device).expand(latents.shape[0]).to_type(latents.dtype);
                Tensor noisePred = Transformer.Forward(latents, promptEmbeds, pooled, timestep / 1000, imageIds, textIds, guidance,
                    options.JointAttentionScale);
                Tensor next = Scheduler.Step(noisePred, t, latents);
                if (options.CallbackOnStepEnd is not null)
                {
                    var given = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                    foreach (var name in options.CallbackOnStepEndTensorInputs)
                        given[name] = name == "latents" ? next : promptEmbeds;
                    var returned = options.CallbackOnStepEnd(this, i, t, given);
                    if (returned is not null)
                    {
                        next = Adopt(returned, "latents", next, moveOut: false);
                        promptEmbeds = Adopt(returned, "prompt_embeds", promptEmbeds, moveOut: true);
                    }
                }
                latents = next.MoveToOuterDisposeScope();
            }
            options.Progress?.Report(new PipelineProgress(i + 1, timesteps.Length, t));
        }

        if (options.OutputType == PipelineOutputType.Latent)
            return new FluxOutput(latents.clone().MoveToOuterDisposeScope(), PipelineOutputType.Latent);
        Tensor images = DecodeLatents(latents, height, width);
        return new FluxOutput(images.MoveToOuterDisposeScope(), PipelineOutputType.Image);
    }

    /// <summary>
    /// Decodes final packed latents like the pipeline's tail: unpacks them for a <paramref name="height"/> ×
    /// <paramref name="width"/> image, un-scales (<c>latents / scaling_factor + shift_factor</c>), runs the VAE decoder
    /// and post-processes to (B, H, W, 3) float32 in [0, 1] on the CPU.
    /// </summary>
    public Tensor DecodeLatents(Tensor packedLatents, int height, int width)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var vc = Vae.Config;
        Tensor z = UnpackLatents(packedLatents, height, width, VaeScaleFactor);
        z = z / vc.ScalingFactor;
        if (vc.ShiftFactor is double shift) z = z + shift;
        Tensor decoded = Vae.Decode(z.to(Vae.Placement.DType));
        Tensor images = (decoded * 0.5 + 0.5).clamp(0, 1);
        images = images.to(CPU).permute(0, 2, 3, 1).to_type(ScalarType.Float32).contiguous();
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>diffusers' <c>_pack_latents</c>: (B, C, h, w) → (B, (h/2)·(w/2), 4·C) of 2×2 patches.</summary>
    public static Tensor PackLatents(Tensor latents)
    {
        long b = latents.shape[0], c = latents.shape[1], h = latents.shape[2], w = latents.shape[3];
        using var scope = NewDisposeScope();
        return latents.view(b, c, h / 2, 2, w / 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, h / 2 * (w / 2), c * 4).MoveToOuterDisposeScope();
    }

    /// <summary>diffusers' <c>_unpack_latents</c>: (B, N, 4·C) → (B, C, h, w) for a <paramref name="height"/> × <paramref name="width"/> image.</summary>
    public static Tensor UnpackLatents(Tensor latents, int height, int width, int vaeScaleFactor)
    {
        long b = latents.shape[0], channels = latents.shape[2];
        long h = 2 * (height / (vaeScaleFactor * 2)), w = 2 * (width / (vaeScaleFactor * 2));
        using var scope = NewDisposeScope();
        return latents.view(b, h / 2, w / 2, channels / 4, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, channels / 4, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>diffusers' <c>_prepare_latent_image_ids</c>: (h·w, 3) rows <c>(0, row, col)</c> in row-major order.</summary>
    public static Tensor PrepareLatentImageIds(long height, long width, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var ids = new float[height * width * 3];
        for (long r = 0; r < height; r++)
            for (long c = 0; c < width; c++)
            {
                ids[(r * width + c) * 3 + 1] = r;
                ids[(r * width + c) * 3 + 2] = c;
            }
        using var t = tensor(ids, new[] { height * width, 3L });
        return t.to(dtype, device ?? CPU);
    }

    /// <summary>
    /// The packed initial noise for <paramref name="seed"/>, drawn exactly as diffusers' <c>prepare_latents</c> draws it
    /// from a CPU generator, the same bits on every CPU (see <see cref="TorchCpuNoise"/>).
    /// </summary>
    public static Tensor InitialNoise(long seed, int batch, int channels, int latentHeight, int latentWidth, ScalarType dtype = ScalarType.Float32)
    {
        using var noise = TorchCpuNoise.Randn(seed, new long[] { batch, channels, latentHeight, latentWidth }, dtype);
        return PackLatents(noise);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Transformer.Dispose();
        Vae.Dispose();
        TextEncoder?.Dispose();
        TextEncoder2?.Dispose();
    }

    private Tensor ClipPooled(string prompt, Device device)
    {
        if (TextEncoder is null) throw new InvalidOperationException("the pipeline has no text_encoder; pass prompt_embeds and pooled_prompt_embeds");
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("the pipeline has text_encoder but no tokenizer; pass prompt_embeds and pooled_prompt_embeds");
        using var ids = tokenizer.TokenizeToTensor(prompt, TokenizerMaxLength);
        using var output = TextEncoder.Forward(ids);
        return output.PooledOutput.to(TextEncoder.DType, device).clone();
    }

    private Tensor T5Embeds(string prompt, int maxSequenceLength, Device device)
    {
        if (TextEncoder2 is null) throw new InvalidOperationException("the pipeline has no text_encoder_2; pass prompt_embeds and pooled_prompt_embeds");
        var tokenizer = Tokenizer2 ?? throw new InvalidOperationException("the pipeline has text_encoder_2 but no tokenizer_2; pass prompt_embeds and pooled_prompt_embeds");
        using var ids = tokenizer.TokenizeToTensor(prompt, maxSequenceLength);
        using var output = TextEncoder2.Forward(ids);
        return output.to(TextEncoder2.DType, device);
    }

    private (Tensor Latents, Tensor ImageIds) PrepareLatents(int batch, int channels, int height, int width, ScalarType dtype, Device device,
        FluxCallOptions options)
    {
        int h = 2 * (height / (VaeScaleFactor * 2));
        int w = 2 * (width / (VaeScaleFactor * 2));
        Tensor imageIds = PrepareLatentImageIds(h / 2, w / 2, device, dtype);
        long[] packed = { batch, (long)(h / 2) * (w / 2), channels * 4L };
        if (options.Latents is not null)
        {
            if (!options.Latents.shape.SequenceEqual(packed))
                throw new PipelineArgumentException("latents",
                    $"`latents` has shape [{string.Join(", ", options.Latents.shape)}], expected the packed layout [{string.Join(", ", packed)}]");
            return (options.Latents.to(dtype, device), imageIds);
        }
        long[] shape = { batch, channels, h, w };
        Tensor noise;
        if (options.Generator is not null)
        {
            noise = randn(shape, dtype, options.Generator.device, generator: options.Generator).to(device);
        }
        else
        {
            noise = (options.Seed is long seed ? TorchCpuNoise.Randn(seed, shape, dtype) : randn(shape, dtype, CPU)).to(device);
        }
        return (PackLatents(noise), imageIds);
    }

    // A replaced tensor is copied (the callback keeps its own); copies of per-call tensors move to the call's scope.
    private static Tensor Adopt(IDictionary<string, Tensor> returned, string name, Tensor current, bool moveOut)
    {
        if (!returned.TryGetValue(name, out var replacement) || ReferenceEquals(replacement, current)) return current;
        var copy = replacement.detach().clone();
        return moveOut ? copy.MoveToOuterDisposeScope() : copy;
    }

    private void CheckInputs(FluxCallOptions o, int height, int width)
    {
        if (height <= 0 || width <= 0) throw new PipelineArgumentException("height", $"`height` and `width` must be positive but are {height} and {width}.");
        if (o.NumInferenceSteps < 1 && o.Sigmas is null) throw new PipelineArgumentException("num_inference_steps", "num_inference_steps must be at least 1");
        if (o.Sigmas is { Count: 0 }) throw new PipelineArgumentException("sigmas", "`sigmas` must not be empty");
        var bad = o.CallbackOnStepEndTensorInputs.Where(k => !CallbackTensorInputs.Contains(k)).ToList();
        if (bad.Count > 0)
            throw new PipelineArgumentException("callback_on_step_end_tensor_inputs",
                $"`callback_on_step_end_tensor_inputs` has to be in [{string.Join(", ", CallbackTensorInputs)}], but found [{string.Join(", ", bad)}]");
        if (o.Prompt is not null && o.PromptEmbeds is not null)
            throw new PipelineArgumentException("prompt", "Cannot forward both `prompt` and `prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.Prompt2 is not null && o.PromptEmbeds is not null)
            throw new PipelineArgumentException("prompt_2", "Cannot forward both `prompt_2` and `prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.Prompt is null && o.PromptEmbeds is null)
            throw new PipelineArgumentException("prompt", "Provide either `prompt` or `prompt_embeds`. Cannot leave both `prompt` and `prompt_embeds` undefined.");
        if (o.PromptEmbeds is not null && o.PooledPromptEmbeds is null)
            throw new PipelineArgumentException("pooled_prompt_embeds",
                "If `prompt_embeds` are provided, `pooled_prompt_embeds` also have to be passed. Make sure to generate `pooled_prompt_embeds` from the same text encoder that was used to generate `prompt_embeds`.");
        if (o.MaxSequenceLength > MaxSequenceLengthLimit)
            throw new PipelineArgumentException("max_sequence_length",
                $"`max_sequence_length` cannot be greater than {MaxSequenceLengthLimit} but is {o.MaxSequenceLength}");
        if (o.NumImagesPerPrompt < 1) throw new PipelineArgumentException("num_images_per_prompt", "num_images_per_prompt must be at least 1");
    }
}
