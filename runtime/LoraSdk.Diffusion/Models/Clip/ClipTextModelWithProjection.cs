using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPTextModelWithProjection</c> (SDXL's <c>text_encoder_2</c>): adds <c>text_projection</c> (no bias).</summary>
public sealed class ClipTextModelWithProjection : ClipTextEncoder
{
    private readonly LoraLinear _textProjection;

    /// <summary>Builds the model; load weights next.</summary>
    public ClipTextModelWithProjection(ClipTextConfig config, ModelPlacement placement)
        : base(nameof(ClipTextModelWithProjection), config, placement)
    {
        _textProjection = Register("text_projection", new LoraLinear(config.HiddenSize, config.ProjectionDim, false, placement.DType, placement.Device));
    }

    /// <inheritdoc />
    protected override Tensor? Project(Tensor pooled) => _textProjection.call(pooled);
}
