using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPTextEmbeddings</c>: <c>token_embedding</c> + <c>position_embedding</c>.</summary>
public sealed class ClipTextEmbeddings : DiffusersModule<Tensor, Tensor>
{
    private readonly Embedding _tokenEmbedding;
    private readonly Embedding _positionEmbedding;
    private readonly long _maxPositions;

    /// <summary>Creates the embeddings.</summary>
    public ClipTextEmbeddings(Configuration.ClipTextConfig config, ModelPlacement placement) : base(nameof(ClipTextEmbeddings))
    {
        _maxPositions = config.MaxPositionEmbeddings;
        _tokenEmbedding = Register("token_embedding", nn.Embedding(config.VocabSize, config.HiddenSize, device: placement.Device, dtype: placement.DType));
        _positionEmbedding = Register("position_embedding", nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: placement.Device, dtype: placement.DType));
    }

    /// <summary>Embeds (B, L) int64 ids to (B, L, D).</summary>
    public override Tensor forward(Tensor inputIds)
    {
        long length = inputIds.shape[^1];
        if (length > _maxPositions)
            throw new System.ArgumentException(
                $"Sequence length must be less than max_position_embeddings (got `sequence length`: {length} and max_position_embeddings: {_maxPositions}");
        using var scope = NewDisposeScope();
        Tensor positions = arange(length, ScalarType.Int64, inputIds.device).unsqueeze(0);
        Tensor embeddings = _tokenEmbedding.call(inputIds) + _positionEmbedding.call(positions);
        return embeddings.MoveToOuterDisposeScope();
    }
}
