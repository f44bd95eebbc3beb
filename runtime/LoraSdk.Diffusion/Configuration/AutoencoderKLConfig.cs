using System;
using System.Collections.Generic;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>diffusers' <c>AutoencoderKL</c> config.</summary>
public sealed class AutoencoderKLConfig
{
    /// <summary>The file the config was read from (kept so saving writes every entry back), or null for a config built in code.</summary>
    public ConfigFile? Source { get; init; }

    /// <summary>Image channels in.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Image channels out.</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Output channels of each encoder block (decoder mirrors them).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = new[] { 64 };

    /// <summary>Resnets per encoder block (decoder blocks have one more).</summary>
    public int LayersPerBlock { get; init; } = 1;

    /// <summary>Activation.</summary>
    public string ActFn { get; init; } = "silu";

    /// <summary>Latent channels.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>GroupNorm groups.</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary>Default image size.</summary>
    public int SampleSize { get; init; } = 32;

    /// <summary>Latent scaling factor.</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>Latent shift factor, or null.</summary>
    public double? ShiftFactor { get; init; }

    /// <summary>Per-channel latent means, or null.</summary>
    public IReadOnlyList<double>? LatentsMean { get; init; }

    /// <summary>Per-channel latent standard deviations, or null.</summary>
    public IReadOnlyList<double>? LatentsStd { get; init; }

    /// <summary>Whether diffusers upcasts a float16 VAE to float32 for decoding.</summary>
    public bool ForceUpcast { get; init; } = true;

    /// <summary>Whether <c>quant_conv</c> exists.</summary>
    public bool UseQuantConv { get; init; } = true;

    /// <summary>Whether <c>post_quant_conv</c> exists.</summary>
    public bool UsePostQuantConv { get; init; } = true;

    /// <summary>Whether the mid blocks have an attention.</summary>
    public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>Reads a VAE <c>config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types, or an unsupported block type.</exception>
    public static AutoencoderKLConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON with diffusers' defaults.</summary>
    public static AutoencoderKLConfig FromConfig(ConfigFile c)
    {
        var down = c.GetStringList("down_block_types", new[] { "DownEncoderBlock2D" });
        var up = c.GetStringList("up_block_types", new[] { "UpDecoderBlock2D" });
        foreach (var t in down)
            if (t != "DownEncoderBlock2D") throw c.Unsupported("down_block_types", $"block type '{t}' is not supported (DownEncoderBlock2D)");
        foreach (var t in up)
            if (t != "UpDecoderBlock2D") throw c.Unsupported("up_block_types", $"block type '{t}' is not supported (UpDecoderBlock2D)");
        var blocks = c.GetIntOrList("block_out_channels", down.Count, null) ?? new[] { 64 };
        if (up.Count != blocks.Length || down.Count != blocks.Length)
            throw c.InvalidValue("block_out_channels", "down_block_types, up_block_types and block_out_channels must have the same length");
        return new AutoencoderKLConfig
        {
            Source = c,
            InChannels = c.GetInt("in_channels", 3),
            OutChannels = c.GetInt("out_channels", 3),
            BlockOutChannels = blocks,
            LayersPerBlock = c.GetInt("layers_per_block", 1),
            ActFn = c.GetString("act_fn", "silu")!,
            LatentChannels = c.GetInt("latent_channels", 4),
            NormNumGroups = c.GetInt("norm_num_groups", 32),
            SampleSize = c.Get("sample_size") is { Kind: Core.JsonValueKind.Number } ? c.GetInt("sample_size", 32) : 32,
            ScalingFactor = c.GetDouble("scaling_factor", 0.18215),
            ShiftFactor = c.GetNullableDouble("shift_factor"),
            LatentsMean = ReadDoubles(c, "latents_mean"),
            LatentsStd = ReadDoubles(c, "latents_std"),
            ForceUpcast = c.GetBool("force_upcast", true),
            UseQuantConv = c.GetBool("use_quant_conv", true),
            UsePostQuantConv = c.GetBool("use_post_quant_conv", true),
            MidBlockAddAttention = c.GetBool("mid_block_add_attention", true),
        };
    }

    private static IReadOnlyList<double>? ReadDoubles(ConfigFile c, string key)
    {
        var v = c.Get(key);
        if (v is null) return null;
        if (v.Kind != Core.JsonValueKind.Array) throw c.InvalidValue(key, "expected a list of numbers");
        var result = new List<double>();
        foreach (var item in v.Items)
        {
            if (item.Kind != Core.JsonValueKind.Number) throw c.InvalidValue(key, "expected a list of numbers");
            result.Add(item.AsDouble());
        }
        return result;
    }
}
