using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>The three outputs of FluxPipeline's <c>encode_prompt</c>; disposing disposes all three.</summary>
public sealed class FluxPromptEmbeddings : IDisposable
{
    /// <summary>Creates the embeddings (takes ownership).</summary>
    public FluxPromptEmbeddings(Tensor promptEmbeds, Tensor pooledPromptEmbeds, Tensor textIds)
    {
        PromptEmbeds = promptEmbeds;
        PooledPromptEmbeds = pooledPromptEmbeds;
        TextIds = textIds;
    }

    /// <summary>(B, max_sequence_length, 4096 for FLUX.1): the T5 encoder's last hidden state.</summary>
    public Tensor PromptEmbeds { get; }

    /// <summary>(B, 768 for FLUX.1): CLIP's <c>pooler_output</c>.</summary>
    public Tensor PooledPromptEmbeds { get; }

    /// <summary>(max_sequence_length, 3) zeros: the text tokens' RoPE position ids.</summary>
    public Tensor TextIds { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        PromptEmbeds.Dispose();
        PooledPromptEmbeds.Dispose();
        TextIds.Dispose();
    }
}
