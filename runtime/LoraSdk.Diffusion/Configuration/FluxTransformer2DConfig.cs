using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>diffusers' <c>FluxTransformer2DModel</c> config (<c>transformer/config.json</c>), with diffusers' defaults.</summary>
public sealed class FluxTransformer2DConfig
{
    /// <summary>Patch size of the packed latents (1 for FLUX.1: the pipeline packs 2×2 patches itself).</summary>
    public int PatchSize { get; init; } = 1;

    /// <summary>Channels of the packed latent tokens (64 for FLUX.1).</summary>
    public int InChannels { get; init; } = 64;

    /// <summary>Output channels (<c>out_channels</c>, defaults to <see cref="InChannels"/>).</summary>
    public int OutChannels { get; init; } = 64;

    /// <summary>Double-stream blocks (<c>transformer_blocks</c>).</summary>
    public int NumLayers { get; init; } = 19;

    /// <summary>Single-stream blocks (<c>single_transformer_blocks</c>).</summary>
    public int NumSingleLayers { get; init; } = 38;

    /// <summary>Width of one attention head.</summary>
    public int AttentionHeadDim { get; init; } = 128;

    /// <summary>Attention heads.</summary>
    public int NumAttentionHeads { get; init; } = 24;

    /// <summary>Channels of the T5 prompt embeddings (<c>encoder_hidden_states</c>).</summary>
    public int JointAttentionDim { get; init; } = 4096;

    /// <summary>Channels of the pooled CLIP embedding.</summary>
    public int PooledProjectionDim { get; init; } = 768;

    /// <summary>Whether the model embeds the distilled guidance scale (FLUX.1-dev: true, schnell: false).</summary>
    public bool GuidanceEmbeds { get; init; }

    /// <summary>RoPE widths per position axis (sum = <see cref="AttentionHeadDim"/>).</summary>
    public IReadOnlyList<int> AxesDimsRope { get; init; } = new[] { 16, 56, 56 };

    /// <summary>The parsed file, or null when built in code.</summary>
    public ConfigFile? Source { get; init; }

    /// <summary>Hidden width: heads × head width.</summary>
    public int InnerDim => NumAttentionHeads * AttentionHeadDim;

    /// <summary>Reads a Flux transformer <c>config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types or inconsistent values.</exception>
    public static FluxTransformer2DConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON with diffusers' defaults.</summary>
    public static FluxTransformer2DConfig FromConfig(ConfigFile c)
    {
        int inChannels = c.GetInt("in_channels", 64);
        var axes = c.GetIntOrList("axes_dims_rope", 3, null) ?? new[] { 16, 56, 56 };
        var cfg = new FluxTransformer2DConfig
        {
            PatchSize = c.GetInt("patch_size", 1),
            InChannels = inChannels,
            OutChannels = c.GetNullableInt("out_channels") is int o && o > 0 ? o : inChannels,
            NumLayers = c.GetInt("num_layers", 19),
            NumSingleLayers = c.GetInt("num_single_layers", 38),
            AttentionHeadDim = c.GetInt("attention_head_dim", 128),
            NumAttentionHeads = c.GetInt("num_attention_heads", 24),
            JointAttentionDim = c.GetInt("joint_attention_dim", 4096),
            PooledProjectionDim = c.GetInt("pooled_projection_dim", 768),
            GuidanceEmbeds = c.GetBool("guidance_embeds", false),
            AxesDimsRope = axes,
            Source = c,
        };
        if (cfg.AxesDimsRope.Any(d => d <= 0 || d % 2 != 0))
            throw c.InvalidValue("axes_dims_rope", "every RoPE axis width must be a positive even number");
        if (cfg.AxesDimsRope.Sum() != cfg.AttentionHeadDim)
            throw c.InvalidValue("axes_dims_rope",
                $"the RoPE axis widths add up to {cfg.AxesDimsRope.Sum()}, but attention_head_dim is {cfg.AttentionHeadDim}");
        if (cfg.PatchSize != 1)
            throw c.Unsupported("patch_size", $"patch_size {cfg.PatchSize} is not supported (FluxPipeline packs 2×2 patches itself; patch_size must be 1)");
        if (cfg.NumLayers < 0 || cfg.NumSingleLayers < 0 || cfg.AttentionHeadDim <= 0 || cfg.NumAttentionHeads <= 0)
            throw c.InvalidValue("num_layers", "layer counts must be non-negative and head sizes positive");
        return cfg;
    }
}
