using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPTextModel</c> (SDXL's <c>text_encoder</c>).</summary>
public sealed class ClipTextModel : ClipTextEncoder
{
    /// <summary>Builds the model; load weights next.</summary>
    public ClipTextModel(ClipTextConfig config, ModelPlacement placement) : base(nameof(ClipTextModel), config, placement) { }

    /// <inheritdoc />
    protected override Tensor? Project(Tensor pooled) => null;
}
