using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// The <c>auto_mapping</c> PEFT's <c>save_pretrained</c> writes for a model that has no task type:
/// <c>{"base_model_class": class name, "parent_library": its Python module}</c>, which lets PEFT's <c>AutoPeftModel</c>
/// rebuild the base model. Known for the diffusers / transformers classes the SDK hosts (by the host type's name,
/// which is the Python class's); null for any other model.
/// </summary>
internal static class PeftAutoMapping
{
    private static readonly Dictionary<string, (string Class, string Library)> Known = new()
    {
        ["UNet2DConditionModel"] = ("UNet2DConditionModel", "diffusers.models.unets.unet_2d_condition"),
        ["FluxTransformer2DModel"] = ("FluxTransformer2DModel", "diffusers.models.transformers.transformer_flux"),
        ["ClipTextModel"] = ("CLIPTextModel", "transformers.models.clip.modeling_clip"),
        ["ClipTextModelWithProjection"] = ("CLIPTextModelWithProjection", "transformers.models.clip.modeling_clip"),
        ["T5EncoderModel"] = ("T5EncoderModel", "transformers.models.t5.modeling_t5"),
    };

    public static IReadOnlyDictionary<string, object?>? For(nn.Module model) =>
        Known.TryGetValue(model.GetType().Name, out var m)
            ? new SortedDictionary<string, object?>(System.StringComparer.Ordinal) { ["base_model_class"] = m.Class, ["parent_library"] = m.Library }
            : null;
}
