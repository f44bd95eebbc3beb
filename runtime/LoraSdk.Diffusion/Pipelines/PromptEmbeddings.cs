using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// The four outputs of SDXL's <c>encode_prompt</c>. The negative tensors are null when classifier-free guidance is
/// off. Disposing disposes all four.
/// </summary>
public sealed class PromptEmbeddings : IDisposable
{
    /// <summary>Creates the embeddings (takes ownership).</summary>
    public PromptEmbeddings(Tensor promptEmbeds, Tensor pooledPromptEmbeds, Tensor? negativePromptEmbeds, Tensor? negativePooledPromptEmbeds)
    {
        PromptEmbeds = promptEmbeds;
        PooledPromptEmbeds = pooledPromptEmbeds;
        NegativePromptEmbeds = negativePromptEmbeds;
        NegativePooledPromptEmbeds = negativePooledPromptEmbeds;
    }

    /// <summary>(B, 77, 2048 for SDXL): both encoders' penultimate hidden states concatenated.</summary>
    public Tensor PromptEmbeds { get; }

    /// <summary>(B, 1280 for SDXL): <c>text_encoder_2</c>'s projected pooled output.</summary>
    public Tensor PooledPromptEmbeds { get; }

    /// <summary>The negative prompt's embeddings (all zeros for a null negative prompt with <c>force_zeros_for_empty_prompt</c>).</summary>
    public Tensor? NegativePromptEmbeds { get; }

    /// <summary>The negative prompt's pooled embeddings.</summary>
    public Tensor? NegativePooledPromptEmbeds { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        PromptEmbeds.Dispose();
        PooledPromptEmbeds.Dispose();
        NegativePromptEmbeds?.Dispose();
        NegativePooledPromptEmbeds?.Dispose();
    }
}
