using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>
/// The outputs of a CLIP text encoder. <see cref="HiddenStates"/> holds the embedding output and every layer's
/// output (layers + 1 tensors, transformers' <c>output_hidden_states=True</c>), so <c>HiddenStates[^2]</c> is the
/// penultimate layer SDXL uses. Disposing the output disposes all its tensors.
/// </summary>
public sealed class ClipTextOutput : IDisposable
{
    /// <summary>Creates the output (takes ownership of the tensors).</summary>
    public ClipTextOutput(Tensor lastHiddenState, Tensor pooledOutput, IReadOnlyList<Tensor> hiddenStates, Tensor? textEmbeds)
    {
        LastHiddenState = lastHiddenState;
        PooledOutput = pooledOutput;
        HiddenStates = hiddenStates;
        TextEmbeds = textEmbeds;
    }

    /// <summary>Final-layer-normed hidden states (B, L, D).</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>The hidden state at the end-of-text position (B, D) (<c>pooler_output</c>).</summary>
    public Tensor PooledOutput { get; }

    /// <summary>Embedding output followed by each encoder layer's output.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <summary><c>text_projection(pooled)</c> (B, projection_dim) for CLIPTextModelWithProjection, else null.</summary>
    public Tensor? TextEmbeds { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in HiddenStates) if (seen.Add(t)) t.Dispose();
        if (seen.Add(LastHiddenState)) LastHiddenState.Dispose();
        if (seen.Add(PooledOutput)) PooledOutput.Dispose();
        if (TextEmbeds is not null && seen.Add(TextEmbeds)) TextEmbeds.Dispose();
    }
}
