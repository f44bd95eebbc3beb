namespace LoraSdk.Core;

/// <summary>The <c>unet/config.json</c> fields (that shape the module layout) of the public base models.</summary>
internal static class BuiltInUnetConfigs
{
    /// <summary>stabilityai/stable-diffusion-xl-base-1.0.</summary>
    public const string SdxlBase = @"{
  ""_class_name"": ""UNet2DConditionModel"",
  ""addition_embed_type"": ""text_time"",
  ""addition_time_embed_dim"": 256,
  ""attention_head_dim"": [5, 10, 20],
  ""block_out_channels"": [320, 640, 1280],
  ""class_embed_type"": null,
  ""conv_in_kernel"": 3,
  ""conv_out_kernel"": 3,
  ""cross_attention_dim"": 2048,
  ""down_block_types"": [""DownBlock2D"", ""CrossAttnDownBlock2D"", ""CrossAttnDownBlock2D""],
  ""downsample_padding"": 1,
  ""in_channels"": 4,
  ""layers_per_block"": 2,
  ""mid_block_type"": ""UNetMidBlock2DCrossAttn"",
  ""out_channels"": 4,
  ""projection_class_embeddings_input_dim"": 2816,
  ""resnet_time_scale_shift"": ""default"",
  ""sample_size"": 128,
  ""time_embedding_type"": ""positional"",
  ""transformer_layers_per_block"": [1, 2, 10],
  ""up_block_types"": [""CrossAttnUpBlock2D"", ""CrossAttnUpBlock2D"", ""UpBlock2D""],
  ""use_linear_projection"": true
}";

    /// <summary>stable-diffusion-v1-5.</summary>
    public const string Sd15 = @"{
  ""_class_name"": ""UNet2DConditionModel"",
  ""attention_head_dim"": 8,
  ""block_out_channels"": [320, 640, 1280, 1280],
  ""cross_attention_dim"": 768,
  ""down_block_types"": [""CrossAttnDownBlock2D"", ""CrossAttnDownBlock2D"", ""CrossAttnDownBlock2D"", ""DownBlock2D""],
  ""downsample_padding"": 1,
  ""in_channels"": 4,
  ""layers_per_block"": 2,
  ""out_channels"": 4,
  ""sample_size"": 64,
  ""up_block_types"": [""UpBlock2D"", ""CrossAttnUpBlock2D"", ""CrossAttnUpBlock2D"", ""CrossAttnUpBlock2D""]
}";

    /// <summary>stable-diffusion-2-1.</summary>
    public const string Sd21 = @"{
  ""_class_name"": ""UNet2DConditionModel"",
  ""attention_head_dim"": [5, 10, 20, 20],
  ""block_out_channels"": [320, 640, 1280, 1280],
  ""cross_attention_dim"": 1024,
  ""down_block_types"": [""CrossAttnDownBlock2D"", ""CrossAttnDownBlock2D"", ""CrossAttnDownBlock2D"", ""DownBlock2D""],
  ""downsample_padding"": 1,
  ""in_channels"": 4,
  ""layers_per_block"": 2,
  ""out_channels"": 4,
  ""sample_size"": 96,
  ""up_block_types"": [""UpBlock2D"", ""CrossAttnUpBlock2D"", ""CrossAttnUpBlock2D"", ""CrossAttnUpBlock2D""],
  ""use_linear_projection"": true
}";
}
