using LoraSdk.Diffusion.Configuration;

namespace LoraSdk.Benchmarks.Host;

/// <summary>The UNet config of stable-diffusion-xl-base-1.0 (2.57 B parameters), for random-weight benchmarks.</summary>
internal static class SdxlBaseUNetConfig
{
    private const string Json = """
    {
      "_class_name": "UNet2DConditionModel",
      "act_fn": "silu",
      "addition_embed_type": "text_time",
      "addition_time_embed_dim": 256,
      "attention_head_dim": [5, 10, 20],
      "block_out_channels": [320, 640, 1280],
      "center_input_sample": false,
      "cross_attention_dim": 2048,
      "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
      "downsample_padding": 1,
      "flip_sin_to_cos": true,
      "freq_shift": 0,
      "in_channels": 4,
      "layers_per_block": 2,
      "mid_block_scale_factor": 1,
      "norm_eps": 1e-05,
      "norm_num_groups": 32,
      "out_channels": 4,
      "projection_class_embeddings_input_dim": 2816,
      "sample_size": 128,
      "transformer_layers_per_block": [1, 2, 10],
      "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
      "use_linear_projection": true
    }
    """;

    /// <summary>Parses the built-in config.</summary>
    public static UNet2DConditionConfig Create() => UNet2DConditionConfig.FromConfig(ConfigFile.Parse(Json, "sdxl-base-1.0 unet (built in)"));
}
