using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// The arguments of a <see cref="FluxPipeline"/> call, named and defaulted like diffusers'
/// <c>FluxPipeline.__call__</c>. Give either <see cref="Prompt"/> or <see cref="PromptEmbeds"/> (with
/// <see cref="PooledPromptEmbeds"/>). Tensors passed in stay owned by the caller.
/// </summary>
public sealed class FluxCallOptions
{
    /// <summary>The prompt (for both text encoders unless <see cref="Prompt2"/> is set).</summary>
    public string? Prompt { get; init; }

    /// <summary>The prompt for <c>tokenizer_2</c>/<c>text_encoder_2</c> (T5); defaults to <see cref="Prompt"/>.</summary>
    public string? Prompt2 { get; init; }

    /// <summary>Precomputed (B, L, joint_attention_dim) T5 embeddings instead of <see cref="Prompt"/>.</summary>
    public Tensor? PromptEmbeds { get; init; }

    /// <summary>Precomputed (B, pooled_projection_dim) CLIP embedding (required with <see cref="PromptEmbeds"/>).</summary>
    public Tensor? PooledPromptEmbeds { get; init; }

    /// <summary>Denoising steps (default 28).</summary>
    public int NumInferenceSteps { get; init; } = 28;

    /// <summary>Custom sigmas (default <c>linspace(1, 1/N, N)</c>).</summary>
    public IReadOnlyList<double>? Sigmas { get; init; }

    /// <summary>The distilled guidance scale embedded by guidance-distilled models (default 3.5).</summary>
    public double GuidanceScale { get; init; } = 3.5;

    /// <summary>Image height in pixels (default: 128 × VAE scale factor); latents use <c>2·(H / (2·f))</c>.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels (default as <see cref="Height"/>).</summary>
    public int? Width { get; init; }

    /// <summary>Images per prompt (default 1).</summary>
    public int NumImagesPerPrompt { get; init; } = 1;

    /// <summary>
    /// Seed of the initial noise: <c>generator=torch.Generator().manual_seed(Seed)</c> (CPU generator, so the same seed
    /// gives the same noise as diffusers). Ignored when <see cref="Latents"/> or <see cref="Generator"/> is set.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>A generator to draw the initial noise from (diffusers' <c>generator</c>).</summary>
    public Generator? Generator { get; init; }

    /// <summary>Initial noise in diffusers' packed layout (B, (H/16)·(W/16), 4·C), diffusers' <c>latents</c>.</summary>
    public Tensor? Latents { get; init; }

    /// <summary>
    /// Runtime LoRA scale, diffusers' <c>joint_attention_kwargs={"scale": s}</c>: scales the transformer's LoRA layers
    /// in every forward and the text encoders' LoRA layers during prompt encoding (<c>lora_scale</c> of
    /// <c>encode_prompt</c>), through <see cref="FluxPipeline.LoraScaleHook"/>.
    /// </summary>
    public double? JointAttentionScale { get; init; }

    /// <summary>T5 sequence length (default 512, at most 512).</summary>
    public int MaxSequenceLength { get; init; } = 512;

    /// <summary>Called after every step (diffusers' <c>callback_on_step_end</c>).</summary>
    public FluxStepEndCallback? CallbackOnStepEnd { get; init; }

    /// <summary>Tensors passed to <see cref="CallbackOnStepEnd"/> (default <c>["latents"]</c>).</summary>
    public IReadOnlyList<string> CallbackOnStepEndTensorInputs { get; init; } = new[] { "latents" };

    /// <summary>Receives a report after every step.</summary>
    public IProgress<PipelineProgress>? Progress { get; init; }

    /// <summary>Images (default) or the final packed latents (diffusers' <c>output_type="latent"</c>).</summary>
    public PipelineOutputType OutputType { get; init; } = PipelineOutputType.Image;

    /// <summary>Stops the call between steps (throws <see cref="OperationCanceledException"/>).</summary>
    public CancellationToken CancellationToken { get; init; }
}
