using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// The arguments of a <see cref="StableDiffusionXLPipeline"/> call, named and defaulted like diffusers'
/// <c>StableDiffusionXLPipeline.__call__</c>. Give either <see cref="Prompt"/> or <see cref="PromptEmbeds"/> (with
/// <see cref="PooledPromptEmbeds"/>). Tensors passed in stay owned by the caller.
/// </summary>
public sealed class StableDiffusionXLCallOptions
{
    /// <summary>The prompt (for both text encoders unless <see cref="Prompt2"/> is set).</summary>
    public string? Prompt { get; init; }

    /// <summary>The prompt for <c>tokenizer_2</c>/<c>text_encoder_2</c>; defaults to <see cref="Prompt"/>.</summary>
    public string? Prompt2 { get; init; }

    /// <summary>
    /// The negative prompt. Null (the default) with <c>force_zeros_for_empty_prompt</c> uses all-zero negative
    /// embeddings, as diffusers does; <c>""</c> encodes the empty string.
    /// </summary>
    public string? NegativePrompt { get; init; }

    /// <summary>The negative prompt for the second encoder; defaults to <see cref="NegativePrompt"/>.</summary>
    public string? NegativePrompt2 { get; init; }

    /// <summary>Precomputed (B, 77, D) prompt embeddings instead of <see cref="Prompt"/>.</summary>
    public Tensor? PromptEmbeds { get; init; }

    /// <summary>Precomputed negative prompt embeddings.</summary>
    public Tensor? NegativePromptEmbeds { get; init; }

    /// <summary>Precomputed pooled prompt embeddings (required with <see cref="PromptEmbeds"/>).</summary>
    public Tensor? PooledPromptEmbeds { get; init; }

    /// <summary>Precomputed negative pooled embeddings (required with <see cref="NegativePromptEmbeds"/>).</summary>
    public Tensor? NegativePooledPromptEmbeds { get; init; }

    /// <summary>Denoising steps (default 50).</summary>
    public int NumInferenceSteps { get; init; } = 50;

    /// <summary>Classifier-free guidance scale (default 5.0; guidance is on when &gt; 1).</summary>
    public double GuidanceScale { get; init; } = 5.0;

    /// <summary>Image height in pixels (default: UNet <c>sample_size</c> × VAE scale factor). Must be divisible by 8.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels (default as <see cref="Height"/>).</summary>
    public int? Width { get; init; }

    /// <summary>Images per prompt (default 1).</summary>
    public int NumImagesPerPrompt { get; init; } = 1;

    /// <summary>
    /// Seed of the initial noise: <c>generator=torch.Generator().manual_seed(Seed)</c> (CPU generator, so the same
    /// seed gives the same noise as diffusers). Ignored when <see cref="Latents"/> or <see cref="Generator"/> is set.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>A generator to draw the initial noise from (diffusers' <c>generator</c>).</summary>
    public Generator? Generator { get; init; }

    /// <summary>Initial noise (before scaling by the scheduler's <c>init_noise_sigma</c>), diffusers' <c>latents</c>.</summary>
    public Tensor? Latents { get; init; }

    /// <summary>
    /// Runtime LoRA scale, diffusers' <c>cross_attention_kwargs={"scale": s}</c>: scales the UNet's LoRA layers in
    /// every forward and the text encoders' LoRA layers during prompt encoding (through
    /// <see cref="StableDiffusionXLPipeline.LoraScaleHook"/>).
    /// </summary>
    public double? CrossAttentionScale { get; init; }

    /// <summary>
    /// Run the UNet steps as CUDA graphs (the pipeline's <see cref="StableDiffusionXLPipeline.UNetGraphs"/>): one graph
    /// per step shape, captured on first use and replayed by later steps and calls, with the UNet's LoRA component
    /// pinned so that hotswaps, <c>SetAdapters</c> weights, <see cref="CrossAttentionScale"/> and scale schedules from
    /// <see cref="CallbackOnStepEnd"/> reach the replays. Needs the UNet on a CUDA device and the native graph library
    /// (docs/gpu-graphs.md); otherwise the call fails at once with a <see cref="Gpu.CudaGraphException"/>
    /// (<c>CudaUnavailable</c>, <c>NotCudaDevice</c>, <c>NativeLibraryMissing</c>, …). Default false.
    /// </summary>
    public bool UseCudaGraphs { get; init; }

    /// <summary>Use the hidden state this many layers before the penultimate one (diffusers' <c>clip_skip</c>).</summary>
    public int? ClipSkip { get; init; }

    /// <summary><c>original_size</c> (H, W) of the added time ids (default: height, width).</summary>
    public (int Height, int Width)? OriginalSize { get; init; }

    /// <summary><c>crops_coords_top_left</c> (default (0, 0)).</summary>
    public (int Top, int Left) CropsCoordsTopLeft { get; init; } = (0, 0);

    /// <summary><c>target_size</c> (default: height, width).</summary>
    public (int Height, int Width)? TargetSize { get; init; }

    /// <summary>Called after every step (diffusers' <c>callback_on_step_end</c>).</summary>
    public StepEndCallback? CallbackOnStepEnd { get; init; }

    /// <summary>Tensors passed to <see cref="CallbackOnStepEnd"/> (default <c>["latents"]</c>).</summary>
    public IReadOnlyList<string> CallbackOnStepEndTensorInputs { get; init; } = new[] { "latents" };

    /// <summary>Receives a report after every step.</summary>
    public IProgress<PipelineProgress>? Progress { get; init; }

    /// <summary>Images (default) or latents.</summary>
    public PipelineOutputType OutputType { get; init; } = PipelineOutputType.Image;

    /// <summary>Stops the call between steps (throws <see cref="OperationCanceledException"/>).</summary>
    public CancellationToken CancellationToken { get; init; }
}
