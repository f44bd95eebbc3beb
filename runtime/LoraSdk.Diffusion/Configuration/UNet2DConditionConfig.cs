using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>
/// The subset of diffusers' <c>UNet2DConditionModel</c> config this host implements (the SD 1.x / 2.x / SDXL
/// family), with diffusers' defaults applied and per-block options expanded. Options outside that family raise
/// <see cref="Loading.ModelLoadException"/> (<see cref="Loading.ModelLoadErrorKind.UnsupportedConfiguration"/>).
/// </summary>
public sealed class UNet2DConditionConfig
{
    /// <summary>The config file this was read from (null for configs built in code).</summary>
    public ConfigFile? Source { get; init; }

    /// <summary>Latent channels in.</summary>
    public int InChannels { get; init; } = 4;

    /// <summary>Latent channels out.</summary>
    public int OutChannels { get; init; } = 4;

    /// <summary>Default latent height and width (<c>sample_size</c>), or null.</summary>
    public int? SampleSize { get; init; }

    /// <summary>Whether the input is mapped from [0, 1] to [-1, 1] first.</summary>
    public bool CenterInputSample { get; init; }

    /// <summary>Whether the sinusoidal time embedding is ordered cos, sin.</summary>
    public bool FlipSinToCos { get; init; } = true;

    /// <summary>The time embedding's <c>downscale_freq_shift</c>.</summary>
    public double FreqShift { get; init; }

    /// <summary>Down block class names.</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = Array.Empty<string>();

    /// <summary>Mid block class name, or null for none.</summary>
    public string? MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";

    /// <summary>Up block class names.</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = Array.Empty<string>();

    /// <summary>Output channels of each down block.</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = Array.Empty<int>();

    /// <summary>Resnets per down block (up blocks have one more).</summary>
    public IReadOnlyList<int> LayersPerBlock { get; init; } = Array.Empty<int>();

    /// <summary>Padding of the down-sampling convolutions.</summary>
    public int DownsamplePadding { get; init; } = 1;

    /// <summary>Resnet output scale factor of the mid block.</summary>
    public double MidBlockScaleFactor { get; init; } = 1.0;

    /// <summary>Resnet output scale factor of the down and up blocks.</summary>
    public double ResnetOutScaleFactor { get; init; } = 1.0;

    /// <summary>Activation of resnets and time embedding (<c>silu</c>, …).</summary>
    public string ActFn { get; init; } = "silu";

    /// <summary>GroupNorm groups.</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary>GroupNorm epsilon of resnets and the output norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Cross-attention (text) dimension per down block.</summary>
    public IReadOnlyList<int> CrossAttentionDim { get; init; } = Array.Empty<int>();

    /// <summary>Attention heads per down block (diffusers reads <c>attention_head_dim</c> as the head count).</summary>
    public IReadOnlyList<int> NumAttentionHeads { get; init; } = Array.Empty<int>();

    /// <summary>Transformer layers of each attention of each down block (one array per block, one value per resnet).</summary>
    public IReadOnlyList<int[]> DownTransformerLayers { get; init; } = Array.Empty<int[]>();

    /// <summary>Transformer layers of the mid block's attention.</summary>
    public int MidTransformerLayers { get; init; } = 1;

    /// <summary>Transformer layers of each attention of each up block (in up-block order).</summary>
    public IReadOnlyList<int[]> UpTransformerLayers { get; init; } = Array.Empty<int[]>();

    /// <summary>Whether <c>proj_in</c>/<c>proj_out</c> are Linear (true) or 1×1 Conv2d (false).</summary>
    public bool UseLinearProjection { get; init; }

    /// <summary><c>addition_embed_type</c>: null or <c>"text_time"</c>.</summary>
    public string? AdditionEmbedType { get; init; }

    /// <summary>Sinusoidal width of each added time id (<c>addition_time_embed_dim</c>).</summary>
    public int? AdditionTimeEmbedDim { get; init; }

    /// <summary>Input width of <c>add_embedding</c> (<c>projection_class_embeddings_input_dim</c>).</summary>
    public int? ProjectionClassEmbeddingsInputDim { get; init; }

    /// <summary>Time embedding width (default 4 × <c>block_out_channels[0]</c>).</summary>
    public int TimeEmbeddingDim { get; init; }

    /// <summary>Activation applied to the summed embedding before the blocks, or null.</summary>
    public string? TimeEmbeddingActFn { get; init; }

    /// <summary>Activation after <c>time_embedding.linear_2</c>, or null.</summary>
    public string? TimestepPostAct { get; init; }

    /// <summary>Kernel size of <c>conv_in</c>.</summary>
    public int ConvInKernel { get; init; } = 3;

    /// <summary>Kernel size of <c>conv_out</c>.</summary>
    public int ConvOutKernel { get; init; } = 3;

    /// <summary>Reads a UNet <c>config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types, or an unsupported option.</exception>
    public static UNet2DConditionConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON, applying diffusers' defaults.</summary>
    public static UNet2DConditionConfig FromConfig(ConfigFile c)
    {
        var down = c.GetStringList("down_block_types",
            new[] { "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D" });
        var up = c.GetStringList("up_block_types",
            new[] { "UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D" });
        int n = down.Count;
        var blockOut = c.GetIntOrList("block_out_channels", n, null)
            ?? (n == 4 ? new[] { 320, 640, 1280, 1280 } : throw c.InvalidValue("block_out_channels", "required when down_block_types is not the default"));
        if (up.Count != n)
            throw c.InvalidValue("up_block_types", $"must have as many entries as down_block_types ({n}), found {up.Count}");
        foreach (var t in down)
            if (t != "DownBlock2D" && t != "CrossAttnDownBlock2D")
                throw c.Unsupported("down_block_types", $"block type '{t}' is not supported (DownBlock2D, CrossAttnDownBlock2D)");
        foreach (var t in up)
            if (t != "UpBlock2D" && t != "CrossAttnUpBlock2D")
                throw c.Unsupported("up_block_types", $"block type '{t}' is not supported (UpBlock2D, CrossAttnUpBlock2D)");
        string? mid = c.Root.TryGetProperty("mid_block_type", out var midValue)
            ? (midValue.IsNull ? null : c.GetString("mid_block_type", null))
            : "UNetMidBlock2DCrossAttn";
        if (mid != null && mid != "UNetMidBlock2DCrossAttn")
            throw c.Unsupported("mid_block_type", $"'{mid}' is not supported (UNetMidBlock2DCrossAttn or null)");

        if (c.Has("num_attention_heads"))
            throw c.Unsupported("num_attention_heads",
                "At the moment it is not possible to define the number of attention heads via `num_attention_heads` (diffusers raises the same); use attention_head_dim");

        var layers = c.GetIntOrList("layers_per_block", n, 2)!;
        var heads = c.GetIntOrList("attention_head_dim", n, 8)!;
        var crossDim = c.GetIntOrList("cross_attention_dim", n, 1280)!;

        foreach (var key in new[]
                 {
                     "class_embed_type", "num_class_embeds", "encoder_hid_dim", "encoder_hid_dim_type",
                     "time_cond_proj_dim", "cross_attention_norm",
                 })
        {
            if (c.Has(key)) throw c.Unsupported(key, "this option is not supported by the SDXL host");
        }
        if (c.GetBool("dual_cross_attention", false)) throw c.Unsupported("dual_cross_attention", "not supported");
        if (c.GetBool("class_embeddings_concat", false)) throw c.Unsupported("class_embeddings_concat", "not supported");
        if (c.Get("only_cross_attention") is JsonValue oca && (oca.Kind == JsonValueKind.True || (oca.Kind == JsonValueKind.Array && oca.Items.Any(i => i.Kind == JsonValueKind.True))))
            throw c.Unsupported("only_cross_attention", "only_cross_attention=true is not supported");
        if (c.GetBool("mid_block_only_cross_attention", false)) throw c.Unsupported("mid_block_only_cross_attention", "not supported");
        string shift = c.GetString("resnet_time_scale_shift", "default")!;
        if (shift != "default") throw c.Unsupported("resnet_time_scale_shift", $"'{shift}' is not supported (default)");
        if (c.GetBool("resnet_skip_time_act", false)) throw c.Unsupported("resnet_skip_time_act", "not supported");
        string timeType = c.GetString("time_embedding_type", "positional")!;
        if (timeType != "positional") throw c.Unsupported("time_embedding_type", $"'{timeType}' is not supported (positional)");
        string attnType = c.GetString("attention_type", "default")!;
        if (attnType != "default") throw c.Unsupported("attention_type", $"'{attnType}' is not supported (default)");
        string? addType = c.GetString("addition_embed_type", null);
        if (addType != null && addType != "text_time")
            throw c.Unsupported("addition_embed_type", $"'{addType}' is not supported (null or text_time)");
        int? addTimeDim = c.GetNullableInt("addition_time_embed_dim");
        int? projIn = c.GetNullableInt("projection_class_embeddings_input_dim");
        if (addType == "text_time" && (addTimeDim is null || projIn is null))
            throw c.InvalidValue("addition_embed_type",
                "text_time needs addition_time_embed_dim and projection_class_embeddings_input_dim");
        if (c.Root.TryGetProperty("norm_num_groups", out var nng) && nng.IsNull)
            throw c.Unsupported("norm_num_groups", "norm_num_groups=null is not supported");

        var (downTl, midTl, upTl) = ReadTransformerLayers(c, n, layers);

        return new UNet2DConditionConfig
        {
            Source = c,
            InChannels = c.GetInt("in_channels", 4),
            OutChannels = c.GetInt("out_channels", 4),
            SampleSize = c.Get("sample_size") is JsonValue ss && ss.Kind == JsonValueKind.Number ? c.GetNullableInt("sample_size") : null,
            CenterInputSample = c.GetBool("center_input_sample", false),
            FlipSinToCos = c.GetBool("flip_sin_to_cos", true),
            FreqShift = c.GetDouble("freq_shift", 0),
            DownBlockTypes = down,
            MidBlockType = mid,
            UpBlockTypes = up,
            BlockOutChannels = blockOut,
            LayersPerBlock = layers,
            DownsamplePadding = c.GetInt("downsample_padding", 1),
            MidBlockScaleFactor = c.GetDouble("mid_block_scale_factor", 1.0),
            ResnetOutScaleFactor = c.GetDouble("resnet_out_scale_factor", 1.0),
            ActFn = c.GetString("act_fn", "silu")!,
            NormNumGroups = c.GetInt("norm_num_groups", 32),
            NormEps = c.GetDouble("norm_eps", 1e-5),
            CrossAttentionDim = crossDim,
            NumAttentionHeads = heads,
            DownTransformerLayers = downTl,
            MidTransformerLayers = midTl,
            UpTransformerLayers = upTl,
            UseLinearProjection = c.GetBool("use_linear_projection", false),
            AdditionEmbedType = addType,
            AdditionTimeEmbedDim = addTimeDim,
            ProjectionClassEmbeddingsInputDim = projIn,
            TimeEmbeddingDim = c.GetNullableInt("time_embedding_dim") ?? blockOut[0] * 4,
            TimeEmbeddingActFn = c.GetString("time_embedding_act_fn", null),
            TimestepPostAct = c.GetString("timestep_post_act", null),
            ConvInKernel = c.GetInt("conv_in_kernel", 3),
            ConvOutKernel = c.GetInt("conv_out_kernel", 3),
        };
    }

    private static (int[][] down, int mid, int[][] up) ReadTransformerLayers(ConfigFile c, int n, int[] layers)
    {
        const string key = "transformer_layers_per_block";
        var raw = c.Get(key);
        var perBlock = new JsonValue?[n];
        if (raw != null)
        {
            if (raw.Kind == JsonValueKind.Array)
            {
                if (raw.Items.Count != n) throw c.InvalidValue(key, $"expected {n} values (one per block), found {raw.Items.Count}");
                for (int i = 0; i < n; i++) perBlock[i] = raw.Items[i];
            }
            else
            {
                for (int i = 0; i < n; i++) perBlock[i] = raw;
            }
        }
        int[] Expand(JsonValue? v, int count)
        {
            if (v is null) return Enumerable.Repeat(1, count).ToArray();
            if (v.Kind == JsonValueKind.Number)
            {
                if (!v.TryGetInt64(out long l)) throw c.InvalidValue(key, "expected integers");
                return Enumerable.Repeat((int)l, count).ToArray();
            }
            if (v.Kind == JsonValueKind.Array)
            {
                var a = v.Items.Select(i => i.TryGetInt64(out long l) ? (int)l : throw c.InvalidValue(key, "expected integers")).ToArray();
                if (a.Length != count) throw c.InvalidValue(key, $"expected {count} per-layer values, found {a.Length}");
                return a;
            }
            throw c.InvalidValue(key, "expected an integer or a list");
        }
        bool nested = perBlock.Any(v => v != null && v.Kind == JsonValueKind.Array);
        var down = new int[n][];
        for (int i = 0; i < n; i++) down[i] = Expand(perBlock[i], layers[i]);
        int mid;
        var last = perBlock[n - 1];
        mid = last is null ? 1 : last.Kind == JsonValueKind.Array ? Expand(last, layers[n - 1])[0] : Expand(last, 1)[0];

        var up = new int[n][];
        var reverse = c.Get("reverse_transformer_layers_per_block");
        if (reverse != null)
        {
            if (reverse.Kind != JsonValueKind.Array || reverse.Items.Count != n)
                throw c.InvalidValue("reverse_transformer_layers_per_block", $"expected a list of {n} entries");
            for (int i = 0; i < n; i++) up[i] = Expand(reverse.Items[i], layers[n - 1 - i] + 1);
        }
        else
        {
            if (nested)
                throw c.InvalidValue(key, "Must provide 'reverse_transformer_layers_per_block` if using asymmetrical UNet.");
            for (int i = 0; i < n; i++) up[i] = Expand(perBlock[n - 1 - i], layers[n - 1 - i] + 1);
        }
        return (down, mid, up);
    }
}
