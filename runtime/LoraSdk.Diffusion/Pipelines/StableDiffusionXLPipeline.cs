using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Models.Vae;
using LoraSdk.Diffusion.Randomness;
using LoraSdk.Diffusion.Schedulers;
using LoraSdk.Diffusion.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// diffusers' <c>StableDiffusionXLPipeline</c> (text-to-image) on TorchSharp: <see cref="EncodePrompt"/> and
/// <see cref="Generate"/> follow diffusers' code path step by step, so float32 results agree with diffusers to
/// rounding. Load with <see cref="FromPretrained"/>. Its LoRA API is diffusers' (<c>pipe.LoadLoraWeights</c>,
/// <c>pipe.SetAdapters</c>, …, see <see cref="LoraPipeline"/>) over <c>unet</c>, <c>text_encoder</c> and
/// <c>text_encoder_2</c>.
/// </summary>
public sealed class StableDiffusionXLPipeline : LoraPipeline, IDiffusionPipeline
{
    /// <summary>The tensor names a step-end callback may request (diffusers' <c>_callback_tensor_inputs</c>).</summary>
    public static readonly IReadOnlyList<string> CallbackTensorInputs = new[] { "latents", "prompt_embeds", "add_text_embeds", "add_time_ids" };

    private ILoraScaleHook? _loraScaleHook;

    /// <summary>Assembles a pipeline from loaded components (takes ownership of the modules).</summary>
    public StableDiffusionXLPipeline(UNet2DConditionModel unet, AutoencoderKL vae, ClipTextModel? textEncoder,
        ClipTextModelWithProjection? textEncoder2, ClipTokenizer? tokenizer, ClipTokenizer? tokenizer2,
        EulerDiscreteScheduler scheduler, bool forceZerosForEmptyPrompt = true, string? sourceFolder = null)
    {
        Unet = unet ?? throw new ArgumentNullException(nameof(unet));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        TextEncoder = textEncoder;
        TextEncoder2 = textEncoder2;
        Tokenizer = tokenizer;
        Tokenizer2 = tokenizer2;
        Scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        ForceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
        SourceFolder = sourceFolder;
    }

    /// <summary>The denoiser (component <c>unet</c>).</summary>
    public UNet2DConditionModel Unet { get; }

    /// <inheritdoc />
    public string ClassName => "StableDiffusionXLPipeline";

    /// <summary>The autoencoder (component <c>vae</c>).</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>CLIP ViT-L text encoder (component <c>text_encoder</c>), or null (e.g. the SDXL refiner).</summary>
    public ClipTextModel? TextEncoder { get; }

    /// <summary>OpenCLIP ViT-bigG text encoder with projection (component <c>text_encoder_2</c>), or null.</summary>
    public ClipTextModelWithProjection? TextEncoder2 { get; }

    /// <summary>Tokenizer of <see cref="TextEncoder"/>, or null.</summary>
    public ClipTokenizer? Tokenizer { get; }

    /// <summary>Tokenizer of <see cref="TextEncoder2"/>, or null.</summary>
    public ClipTokenizer? Tokenizer2 { get; }

    /// <summary>The scheduler (stateful: one call at a time).</summary>
    public EulerDiscreteScheduler Scheduler { get; }

    /// <summary><c>force_zeros_for_empty_prompt</c> from <c>model_index.json</c>.</summary>
    public bool ForceZerosForEmptyPrompt { get; }

    /// <summary>The folder the pipeline was loaded from, or null.</summary>
    public string? SourceFolder { get; }

    /// <summary>VAE down-sampling factor (<c>vae_scale_factor</c>).</summary>
    public int VaeScaleFactor => Vae.ScaleFactor;

    /// <summary>Default latent size (<c>unet.config.sample_size</c>, 128 when absent).</summary>
    public int DefaultSampleSize => Unet.Config.SampleSize ?? 128;

    /// <summary>The components by diffusers name (<c>unet</c>, <c>vae</c>, <c>text_encoder</c>, <c>text_encoder_2</c>).</summary>
    public IReadOnlyDictionary<string, nn.Module> Components
    {
        get
        {
            var d = new Dictionary<string, nn.Module>(StringComparer.Ordinal) { [PipelineComponentNames.Unet] = Unet, [PipelineComponentNames.Vae] = Vae };
            if (TextEncoder is not null) d[PipelineComponentNames.TextEncoder] = TextEncoder;
            if (TextEncoder2 is not null) d[PipelineComponentNames.TextEncoder2] = TextEncoder2;
            return d;
        }
    }

    /// <summary>
    /// The runtime-scale hook (<c>cross_attention_kwargs["scale"]</c>): the pipeline's own <see cref="LoraPipeline.Lora"/>
    /// installs itself here on first use; set it only to plug in another LoRA engine. Setting it also sets
    /// <see cref="UNet2DConditionModel.LoraScaleHook"/>.
    /// </summary>
    public ILoraScaleHook? LoraScaleHook
    {
        get => _loraScaleHook;
        set
        {
            _loraScaleHook = value;
            Unet.LoraScaleHook = value;
        }
    }

    /// <inheritdoc />
    private protected override LoraAdapterManager CreateLoraManager() => StableDiffusionXLLora.CreateManager(this);

    /// <inheritdoc />
    private protected override void InstallScaleHook(ILoraScaleHook hook) => LoraScaleHook = hook;

    /// <summary>
    /// Warnings that diffusers logs with <c>logger.warning</c> during a call, with diffusers' wording — today a prompt
    /// longer than the tokenizer's <c>model_max_length</c> (77 tokens), whose cut-off part is quoted:
    /// <c>The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ['…']</c>
    /// (once per tokenizer, as diffusers does). Handlers run synchronously on the calling thread. Without a handler
    /// the warning goes to <see cref="System.Diagnostics.Trace"/>.
    /// </summary>
    public event Action<string>? Warning;

    /// <summary>Loads a diffusers SDXL pipeline folder (see <see cref="Loading.PipelineLoader"/>).</summary>
    public static StableDiffusionXLPipeline FromPretrained(string folder, Loading.ModelLoadOptions? options = null) =>
        Loading.PipelineLoader.Load(folder, options);

    /// <summary>
    /// diffusers' <c>save_pretrained</c>: writes the pipeline folder <see cref="FromPretrained"/> and diffusers'
    /// <c>from_pretrained</c> load — <c>model_index.json</c>, <c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c>,
    /// <c>text_encoder_2/</c>, <c>tokenizer/</c>, <c>tokenizer_2/</c>, <c>scheduler/</c> with diffusers' and transformers'
    /// file names, keys and config fields (see <see cref="Saving.SavePretrainedExtensions"/>) — in
    /// <see cref="Saving.ModelSaveOptions.DType"/>, with <see cref="Saving.ModelSaveOptions.Variant"/> file names and
    /// sharding. The folder appears complete or not at all. Unload LoRA adapters first (fuse them to keep their effect):
    /// a pipeline with adapters loaded is refused.
    /// </summary>
    /// <returns>The folder written (full path).</returns>
    /// <exception cref="Saving.ModelSaveException">Adapters loaded, a bad option, or a target folder that may not be replaced.</exception>
    public string SavePretrained(string folder, Saving.ModelSaveOptions? options = null) =>
        Saving.StableDiffusionXLPipelineSaver.Save(this, folder, options);

    /// <summary>
    /// diffusers' <c>encode_prompt</c>: tokenizes with both tokenizers (padded to 77, truncated), takes each
    /// encoder's penultimate hidden state (or <c>clip_skip</c>), concatenates them, and takes the pooled projection
    /// of <c>text_encoder_2</c>. With guidance, a null negative prompt and <c>force_zeros_for_empty_prompt</c> gives
    /// zeros; otherwise the negative prompt (default <c>""</c>) is encoded the same way. <paramref name="loraScale"/>
    /// scales the text encoders' LoRA layers for this call through <see cref="LoraScaleHook"/>.
    /// </summary>
    public PromptEmbeddings EncodePrompt(string? prompt, string? prompt2 = null, bool doClassifierFreeGuidance = true,
        string? negativePrompt = null, string? negativePrompt2 = null, int numImagesPerPrompt = 1, double? loraScale = null,
        int? clipSkip = null, Tensor? promptEmbeds = null, Tensor? pooledPromptEmbeds = null, Tensor? negativePromptEmbeds = null,
        Tensor? negativePooledPromptEmbeds = null)
    {
        if (numImagesPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(numImagesPerPrompt), "must be at least 1");
        using var scaleTe1 = loraScale is double s1 && LoraScaleHook is not null && TextEncoder is not null ? LoraScaleHook.Scale(TextEncoder, s1) : null;
        using var scaleTe2 = loraScale is double s2 && LoraScaleHook is not null && TextEncoder2 is not null ? LoraScaleHook.Scale(TextEncoder2, s2) : null;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        Tensor pe, ppe;
        if (promptEmbeds is null)
        {
            if (prompt is null) throw new ArgumentException("Provide either `prompt` or `prompt_embeds`. Cannot leave both `prompt` and `prompt_embeds` undefined.");
            (pe, var pooled) = EncodeWithBothEncoders(prompt, prompt2 ?? prompt, clipSkip, warnOnTruncation: true);
            ppe = pooledPromptEmbeds ?? pooled ?? throw new InvalidOperationException("no text encoder produced a pooled output (text_encoder_2 is missing)");
        }
        else
        {
            pe = promptEmbeds;
            ppe = pooledPromptEmbeds ?? throw new ArgumentException("If `prompt_embeds` are provided, `pooled_prompt_embeds` also have to be passed. Make sure to generate `pooled_prompt_embeds` from the same text encoder that was used to generate `prompt_embeds`.");
        }

        Tensor? npe = null, nppe = null;
        bool zeroOut = negativePrompt is null && ForceZerosForEmptyPrompt;
        if (doClassifierFreeGuidance && negativePromptEmbeds is null && zeroOut)
        {
            npe = zeros_like(pe);
            nppe = zeros_like(ppe);
        }
        else if (doClassifierFreeGuidance && negativePromptEmbeds is null)
        {
            string neg = negativePrompt ?? "";
            string neg2 = negativePrompt2 ?? neg;
            (npe, var negPooled) = EncodeWithBothEncoders(neg, neg2, null, (int)pe.shape[1]);
            nppe = negativePooledPromptEmbeds ?? negPooled;
        }
        else if (doClassifierFreeGuidance)
        {
            npe = negativePromptEmbeds;
            nppe = negativePooledPromptEmbeds ?? throw new ArgumentException("If `negative_prompt_embeds` are provided, `negative_pooled_prompt_embeds` also have to be passed. Make sure to generate `negative_pooled_prompt_embeds` from the same text encoder that was used to generate `negative_prompt_embeds`.");
        }

        ScalarType embedDType = TextEncoder2?.DType ?? Unet.Placement.DType;
        Device device = Unet.Placement.Device;
        Tensor Repeat3(Tensor t) => t.to(embedDType, device).repeat(1, numImagesPerPrompt, 1).view(t.shape[0] * numImagesPerPrompt, t.shape[1], -1);
        Tensor Repeat2(Tensor t) => t.repeat(1, numImagesPerPrompt).view(t.shape[0] * numImagesPerPrompt, -1);

        Tensor outPe = Repeat3(pe).clone();
        Tensor outPpe = Repeat2(ppe).clone();
        Tensor? outNpe = npe is null ? null : Repeat3(npe).clone();
        Tensor? outNppe = nppe is null ? null : Repeat2(nppe).clone();
        return new PromptEmbeddings(outPe.MoveToOuterDisposeScope(), outPpe.MoveToOuterDisposeScope(),
            outNpe?.MoveToOuterDisposeScope(), outNppe?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// diffusers' <c>__call__</c>: encodes the prompt, draws or takes the initial latents, runs the Euler denoising
    /// loop with classifier-free guidance, calls <see cref="StableDiffusionXLCallOptions.CallbackOnStepEnd"/> and
    /// reports progress after every step, and decodes with the VAE.
    /// </summary>
    public StableDiffusionXLOutput Generate(StableDiffusionXLCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int height = options.Height ?? DefaultSampleSize * VaeScaleFactor;
        int width = options.Width ?? DefaultSampleSize * VaeScaleFactor;
        CheckInputs(options, height, width);
        bool cfg = options.GuidanceScale > 1.0;

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Device device = Unet.Placement.Device;

        using var embeddings = EncodePrompt(options.Prompt, options.Prompt2, cfg, options.NegativePrompt, options.NegativePrompt2,
            options.NumImagesPerPrompt, options.CrossAttentionScale, options.ClipSkip, options.PromptEmbeds,
            options.PooledPromptEmbeds, options.NegativePromptEmbeds, options.NegativePooledPromptEmbeds);
        int batch = (int)embeddings.PromptEmbeds.shape[0];
        ScalarType dtype = embeddings.PromptEmbeds.dtype;

        Scheduler.SetTimesteps(options.NumInferenceSteps);
        float[] timesteps = Scheduler.Timesteps;
        Tensor latents = PrepareLatents(batch, height, width, dtype, device, options);

        int projectionDim = TextEncoder2?.Config.ProjectionDim ?? (int)embeddings.PooledPromptEmbeds.shape[^1];
        var original = options.OriginalSize ?? (height, width);
        var target = options.TargetSize ?? (height, width);
        Tensor addTimeIds = AddTimeIds(original, options.CropsCoordsTopLeft, target, dtype, projectionDim);

        Tensor promptEmbeds = embeddings.PromptEmbeds;
        Tensor addTextEmbeds = embeddings.PooledPromptEmbeds;
        if (cfg)
        {
            promptEmbeds = cat(new[] { embeddings.NegativePromptEmbeds!, promptEmbeds }, 0);
            addTextEmbeds = cat(new[] { embeddings.NegativePooledPromptEmbeds!, addTextEmbeds }, 0);
            addTimeIds = cat(new[] { addTimeIds, addTimeIds }, 0);
        }
        promptEmbeds = promptEmbeds.to(device);
        addTextEmbeds = addTextEmbeds.to(device);
        addTimeIds = addTimeIds.to(device).repeat(batch, 1);

        // The timesteps go to the device once: a per-step host scalar would cost a synchronising host-to-device copy
        // inside the UNet forward every step (and cannot be captured in a CUDA graph).
        Tensor deviceTimesteps = tensor(timesteps, ScalarType.Float32).to(device);

        Scheduler.SetBeginIndex(0);
        for (int i = 0; i < timesteps.Length; i++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            float t = timesteps[i];
            using (var step = NewDisposeScope())
            {
                Tensor modelInput = cfg ? cat(new[] { latents, latents }, 0) : latents;
                modelInput = Scheduler.ScaleModelInput(modelInput, t);
                Tensor timestep = deviceTimesteps[i];
                Tensor noisePred = Unet.Forward(modelInput, timestep, promptEmbeds, addTextEmbeds, addTimeIds, options.CrossAttentionScale);
                if (cfg)
                {
                    Tensor[] halves = noisePred.chunk(2, 0);
                    noisePred = halves[0] + options.GuidanceScale * (halves[1] - halves[0]);
                }
                Tensor next = Scheduler.Step(noisePred, t, latents);
                if (options.CallbackOnStepEnd is not null)
                {
                    var given = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                    foreach (var name in options.CallbackOnStepEndTensorInputs)
                        given[name] = name switch
                        {
                            "latents" => next,
                            "prompt_embeds" => promptEmbeds,
                            "add_text_embeds" => addTextEmbeds,
                            _ => addTimeIds,
                        };
                    var returned = options.CallbackOnStepEnd(this, i, t, given);
                    if (returned is not null)
                    {
                        next = Adopt(returned, "latents", next, moveOut: false);
                        promptEmbeds = Adopt(returned, "prompt_embeds", promptEmbeds, moveOut: true);
                        addTextEmbeds = Adopt(returned, "add_text_embeds", addTextEmbeds, moveOut: true);
                        addTimeIds = Adopt(returned, "add_time_ids", addTimeIds, moveOut: true);
                    }
                }
                latents = next.MoveToOuterDisposeScope();
            }
            options.Progress?.Report(new PipelineProgress(i + 1, timesteps.Length, t));
        }

        if (options.OutputType == PipelineOutputType.Latent)
            return new StableDiffusionXLOutput(latents.clone().MoveToOuterDisposeScope(), PipelineOutputType.Latent);
        Tensor images = DecodeLatents(latents);
        return new StableDiffusionXLOutput(images.MoveToOuterDisposeScope(), PipelineOutputType.Image);
    }

    /// <summary>
    /// Decodes final latents like the pipeline's tail: un-scales (<c>/ scaling_factor</c>, or with
    /// <c>latents_mean</c>/<c>latents_std</c> when configured), runs the VAE decoder, and post-processes to
    /// (B, H, W, 3) float32 in [0, 1] on the CPU (<c>(x · 0.5 + 0.5).clamp(0, 1)</c>, NHWC).
    /// </summary>
    public Tensor DecodeLatents(Tensor latents)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var vc = Vae.Config;
        Tensor z;
        if (vc.LatentsMean is not null && vc.LatentsStd is not null)
        {
            Tensor mean = tensor(vc.LatentsMean.Select(v => (float)v).ToArray()).view(1, -1, 1, 1).to(latents.dtype, latents.device);
            Tensor std = tensor(vc.LatentsStd.Select(v => (float)v).ToArray()).view(1, -1, 1, 1).to(latents.dtype, latents.device);
            z = latents * std / vc.ScalingFactor + mean;
        }
        else
        {
            z = latents / vc.ScalingFactor;
        }
        Tensor decoded = Vae.Decode(z.to(Vae.Placement.DType));
        Tensor images = (decoded * 0.5 + 0.5).clamp(0, 1);
        images = images.to(CPU).permute(0, 2, 3, 1).to_type(ScalarType.Float32).contiguous();
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws the initial noise for <paramref name="seed"/> exactly as diffusers does with a CPU generator
    /// (<c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c>), the same bits on every CPU
    /// (see <see cref="TorchCpuNoise"/>).
    /// </summary>
    public static Tensor InitialNoise(long seed, long[] shape, ScalarType dtype = ScalarType.Float32) =>
        TorchCpuNoise.Randn(seed, shape, dtype);

    /// <inheritdoc />
    public void Dispose()
    {
        Unet.Dispose();
        Vae.Dispose();
        TextEncoder?.Dispose();
        TextEncoder2?.Dispose();
    }

    private (Tensor Embeds, Tensor? Pooled) EncodeWithBothEncoders(string text1, string text2, int? clipSkip, int? maxLength = null,
        bool warnOnTruncation = false)
    {
        var pairs = new List<(ClipTokenizer Tok, ClipTextEncoder Enc, string Text)>();
        if (TextEncoder is not null)
            pairs.Add((Tokenizer ?? throw new InvalidOperationException("the pipeline has text_encoder but no tokenizer; pass prompt_embeds"), TextEncoder, text1));
        if (TextEncoder2 is not null)
            pairs.Add((Tokenizer2 ?? throw new InvalidOperationException("the pipeline has text_encoder_2 but no tokenizer_2; pass prompt_embeds"), TextEncoder2, text2));
        if (pairs.Count == 0) throw new InvalidOperationException("the pipeline has no text encoder; pass prompt_embeds");
        var parts = new List<Tensor>();
        Tensor? pooled = null;
        foreach (var (tok, enc, text) in pairs)
        {
            var tokens = tok.Tokenize(text, maxLength ?? tok.ModelMaxLength);
            if (warnOnTruncation) WarnIfTruncated(tok, tokens);
            using var ids = tensor(tokens.InputIds.Select(i => (long)i).ToArray(), new long[] { 1, tokens.InputIds.Count });
            using var output = enc.Forward(ids);
            if (pooled is null && output.TextEmbeds is not null) pooled = output.TextEmbeds.clone();
            int index = clipSkip is int skip ? output.HiddenStates.Count - (skip + 2) : output.HiddenStates.Count - 2;
            parts.Add(output.HiddenStates[index].clone());
        }
        return (cat(parts, -1), pooled);
    }

    // diffusers' encode_prompt: when the untruncated ids are longer than the padded ones, it decodes
    // untruncated_ids[:, model_max_length - 1 : -1] (everything cut off, without the final EOS) and logs it.
    private void WarnIfTruncated(ClipTokenizer tokenizer, ClipTokenization tokens)
    {
        var all = tokens.InputIdsUnpadded;
        if (all.Count <= tokens.InputIds.Count) return;
        int from = Math.Min(tokenizer.ModelMaxLength - 1, all.Count - 1);
        string removed = tokenizer.Decode(all.Skip(from).Take(all.Count - 1 - from));
        OnWarning("The following part of your input was truncated because CLIP can only handle sequences up to "
                  + $"{tokenizer.ModelMaxLength} tokens: [{PythonRepr(removed)}]");
    }

    private void OnWarning(string message)
    {
        var handler = Warning;
        if (handler is null) System.Diagnostics.Trace.TraceWarning(message);
        else handler(message);
    }

    // Python's repr of a str (how diffusers prints the decoded list): single quotes unless the text has one and no double quote.
    private static string PythonRepr(string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        var sb = new System.Text.StringBuilder().Append(quote);
        foreach (char c in text)
        {
            if (c == '\\' || c == quote) sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else sb.Append(c);
        }
        return sb.Append(quote).ToString();
    }

    private Tensor PrepareLatents(int batch, int height, int width, ScalarType dtype, Device device, StableDiffusionXLCallOptions options)
    {
        long[] shape = { batch, Unet.Config.InChannels, height / VaeScaleFactor, width / VaeScaleFactor };
        Tensor latents;
        if (options.Latents is not null)
        {
            if (!options.Latents.shape.SequenceEqual(shape))
                throw new ArgumentException($"`latents` has shape [{string.Join(", ", options.Latents.shape)}], expected [{string.Join(", ", shape)}]");
            latents = options.Latents.to(device);
        }
        else if (options.Generator is not null)
        {
            latents = randn(shape, dtype, options.Generator.device, generator: options.Generator).to(device);
        }
        else
        {
            latents = options.Seed is long seed
                ? InitialNoise(seed, shape, dtype).to(device)
                : randn(shape, dtype, CPU).to(device);
        }
        using var sigma = tensor(Scheduler.InitNoiseSigma, ScalarType.Float32);
        return latents * sigma;
    }

    private Tensor AddTimeIds((int H, int W) original, (int Top, int Left) crops, (int H, int W) target, ScalarType dtype, int projectionDim)
    {
        var ids = new float[] { original.H, original.W, crops.Top, crops.Left, target.H, target.W };
        if (Unet.AddEmbeddingInFeatures is long expected)
        {
            long passed = (long)Unet.Config.AdditionTimeEmbedDim!.Value * ids.Length + projectionDim;
            if (expected != passed)
                throw new ArgumentException($"Model expects an added time embedding vector of length {expected}, but a vector of {passed} was created. The model has an incorrect config. Please check `unet.config.time_embedding_type` and `text_encoder_2.config.projection_dim`.");
        }
        return tensor(ids, new long[] { 1, ids.Length }).to_type(dtype);
    }

    // A replaced tensor is copied (the callback keeps its own); copies of per-call tensors move to the call's scope.
    private static Tensor Adopt(IDictionary<string, Tensor> returned, string name, Tensor current, bool moveOut)
    {
        if (!returned.TryGetValue(name, out var replacement) || ReferenceEquals(replacement, current)) return current;
        var copy = replacement.detach().clone();
        return moveOut ? copy.MoveToOuterDisposeScope() : copy;
    }

    private void CheckInputs(StableDiffusionXLCallOptions o, int height, int width)
    {
        if (height % 8 != 0 || width % 8 != 0)
            throw new ArgumentException($"`height` and `width` have to be divisible by 8 but are {height} and {width}.");
        if (o.NumInferenceSteps < 1) throw new ArgumentException("num_inference_steps must be at least 1");
        var bad = o.CallbackOnStepEndTensorInputs.Where(k => !CallbackTensorInputs.Contains(k)).ToList();
        if (bad.Count > 0)
            throw new ArgumentException($"`callback_on_step_end_tensor_inputs` has to be in [{string.Join(", ", CallbackTensorInputs)}], but found [{string.Join(", ", bad)}]");
        if (o.Prompt is not null && o.PromptEmbeds is not null)
            throw new ArgumentException("Cannot forward both `prompt` and `prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.Prompt2 is not null && o.PromptEmbeds is not null)
            throw new ArgumentException("Cannot forward both `prompt_2` and `prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.Prompt is null && o.PromptEmbeds is null)
            throw new ArgumentException("Provide either `prompt` or `prompt_embeds`. Cannot leave both `prompt` and `prompt_embeds` undefined.");
        if (o.NegativePrompt is not null && o.NegativePromptEmbeds is not null)
            throw new ArgumentException("Cannot forward both `negative_prompt` and `negative_prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.NegativePrompt2 is not null && o.NegativePromptEmbeds is not null)
            throw new ArgumentException("Cannot forward both `negative_prompt_2` and `negative_prompt_embeds`. Please make sure to only forward one of the two.");
        if (o.PromptEmbeds is not null && o.NegativePromptEmbeds is not null && !o.PromptEmbeds.shape.SequenceEqual(o.NegativePromptEmbeds.shape))
            throw new ArgumentException("`prompt_embeds` and `negative_prompt_embeds` must have the same shape when passed directly.");
        if (o.PromptEmbeds is not null && o.PooledPromptEmbeds is null)
            throw new ArgumentException("If `prompt_embeds` are provided, `pooled_prompt_embeds` also have to be passed.");
        if (o.NegativePromptEmbeds is not null && o.NegativePooledPromptEmbeds is null)
            throw new ArgumentException("If `negative_prompt_embeds` are provided, `negative_pooled_prompt_embeds` also have to be passed.");
    }
}
