namespace LoraSdk.Core;

/// <summary>The <c>transformer/config.json</c> fields (that shape the module layout) of the public Flux base models.</summary>
internal static class BuiltInFluxConfigs
{
    /// <summary>black-forest-labs/FLUX.1-dev.</summary>
    public const string Flux1Dev = @"{
  ""_class_name"": ""FluxTransformer2DModel"",
  ""attention_head_dim"": 128,
  ""axes_dims_rope"": [16, 56, 56],
  ""guidance_embeds"": true,
  ""in_channels"": 64,
  ""joint_attention_dim"": 4096,
  ""num_attention_heads"": 24,
  ""num_layers"": 19,
  ""num_single_layers"": 38,
  ""patch_size"": 1,
  ""pooled_projection_dim"": 768
}";
}
