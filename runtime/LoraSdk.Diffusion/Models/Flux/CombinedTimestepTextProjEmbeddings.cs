using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>CombinedTimestepGuidanceTextProjEmbeddings</c> (with <c>guidance_embeds</c>) or
/// <c>CombinedTimestepTextProjEmbeddings</c>: sinusoidal features of the timestep (256 channels, cos first) through
/// <c>timestep_embedder</c>, the same for the guidance through <c>guidance_embedder</c>, plus the pooled text
/// projection <c>text_embedder</c>.
/// </summary>
public sealed class CombinedTimestepTextProjEmbeddings : DiffusersModule
{
    private const int TimestepChannels = 256;
    private readonly SinusoidalTimesteps _timeProj = new(TimestepChannels, flipSinToCos: true, downscaleFreqShift: 0);
    private readonly TimestepEmbedding _timestepEmbedder;
    private readonly TimestepEmbedding? _guidanceEmbedder;
    private readonly PixArtAlphaTextProjection _textEmbedder;

    /// <summary>Creates the embedding.</summary>
    /// <param name="embeddingDim">Output width (the transformer's inner width).</param>
    /// <param name="pooledProjectionDim">Width of the pooled text embedding.</param>
    /// <param name="guidanceEmbeds">Whether a guidance embedder exists (FLUX.1-dev).</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public CombinedTimestepTextProjEmbeddings(long embeddingDim, long pooledProjectionDim, bool guidanceEmbeds, ModelPlacement placement)
        : base(nameof(CombinedTimestepTextProjEmbeddings))
    {
        _timestepEmbedder = Register("timestep_embedder", new TimestepEmbedding(TimestepChannels, embeddingDim, "silu", null, placement));
        if (guidanceEmbeds)
            _guidanceEmbedder = Register("guidance_embedder", new TimestepEmbedding(TimestepChannels, embeddingDim, "silu", null, placement));
        _textEmbedder = Register("text_embedder", new PixArtAlphaTextProjection(pooledProjectionDim, embeddingDim, placement));
    }

    /// <summary>Whether the guidance embedder exists.</summary>
    public bool HasGuidance => _guidanceEmbedder is not null;

    /// <summary>The conditioning (B, D) of 1-D <paramref name="timestep"/> (and <paramref name="guidance"/>), both already ×1000.</summary>
    public Tensor Forward(Tensor timestep, Tensor? guidance, Tensor pooledProjection)
    {
        using var scope = NewDisposeScope();
        Tensor emb = _timestepEmbedder.call(_timeProj.Embed(timestep).to_type(pooledProjection.dtype));
        if (_guidanceEmbedder is not null)
        {
            if (guidance is null)
                throw new System.ArgumentException("the transformer embeds guidance (guidance_embeds=true); pass a guidance tensor", nameof(guidance));
            emb = emb + _guidanceEmbedder.call(_timeProj.Embed(guidance).to_type(pooledProjection.dtype));
        }
        return (emb + _textEmbedder.call(pooledProjection)).MoveToOuterDisposeScope();
    }
}
