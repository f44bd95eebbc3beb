using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Configuration;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Saving;

/// <summary>
/// The JSON files of a saved pipeline, as diffusers 0.40 and transformers 5 write them
/// (<c>json.dumps(config, indent=2, sort_keys=True) + "\n"</c>): a diffusers class's config is every parameter of its
/// <c>__init__</c> (defaults for entries the loaded file lacked) plus <c>_class_name</c>, <c>_diffusers_version</c> and,
/// for a model loaded from a folder, <c>_name_or_path</c>; a transformers CLIP text config is the loaded file's entries
/// with <c>architectures</c>, <c>dtype</c> and <c>transformers_version</c> updated.
/// </summary>
internal static class SavedConfigs
{
    /// <summary>The diffusers version whose file layout and semantics the SDK follows (written as <c>_diffusers_version</c>).</summary>
    public const string DiffusersVersion = "0.40.0.dev0";

    /// <summary>The transformers version whose file layout the SDK follows (written as <c>transformers_version</c>).</summary>
    public const string TransformersVersion = "5.17.0";

    /// <summary><c>UNet2DConditionModel.__init__</c>'s parameters and defaults (diffusers 58eb52c).</summary>
    private static SortedDictionary<string, object?> UNetDefaults() => Dict(
        ("sample_size", null), ("in_channels", 4L), ("out_channels", 4L), ("center_input_sample", false), ("flip_sin_to_cos", true),
        ("freq_shift", 0L),
        ("down_block_types", List("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")),
        ("mid_block_type", "UNetMidBlock2DCrossAttn"),
        ("up_block_types", List("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")),
        ("only_cross_attention", false), ("block_out_channels", List(320L, 640L, 1280L, 1280L)), ("layers_per_block", 2L),
        ("downsample_padding", 1L), ("mid_block_scale_factor", 1L), ("dropout", 0.0), ("act_fn", "silu"), ("norm_num_groups", 32L),
        ("norm_eps", 1e-5), ("cross_attention_dim", 1280L), ("transformer_layers_per_block", 1L),
        ("reverse_transformer_layers_per_block", null), ("encoder_hid_dim", null), ("encoder_hid_dim_type", null),
        ("attention_head_dim", 8L), ("num_attention_heads", null), ("dual_cross_attention", false), ("use_linear_projection", false),
        ("class_embed_type", null), ("addition_embed_type", null), ("addition_time_embed_dim", null), ("num_class_embeds", null),
        ("upcast_attention", false), ("resnet_time_scale_shift", "default"), ("resnet_skip_time_act", false),
        ("resnet_out_scale_factor", 1.0), ("time_embedding_type", "positional"), ("time_embedding_dim", null),
        ("time_embedding_act_fn", null), ("timestep_post_act", null), ("time_cond_proj_dim", null), ("conv_in_kernel", 3L),
        ("conv_out_kernel", 3L), ("projection_class_embeddings_input_dim", null), ("attention_type", "default"),
        ("class_embeddings_concat", false), ("mid_block_only_cross_attention", null), ("cross_attention_norm", null),
        ("addition_embed_type_num_heads", 64L));

    /// <summary><c>AutoencoderKL.__init__</c>'s parameters and defaults.</summary>
    private static SortedDictionary<string, object?> VaeDefaults() => Dict(
        ("in_channels", 3L), ("out_channels", 3L), ("down_block_types", List("DownEncoderBlock2D")), ("up_block_types", List("UpDecoderBlock2D")),
        ("block_out_channels", List(64L)), ("layers_per_block", 1L), ("act_fn", "silu"), ("latent_channels", 4L), ("norm_num_groups", 32L),
        ("sample_size", 32L), ("scaling_factor", 0.18215), ("shift_factor", null), ("latents_mean", null), ("latents_std", null),
        ("force_upcast", true), ("use_quant_conv", true), ("use_post_quant_conv", true), ("mid_block_add_attention", true));

    /// <summary><c>EulerDiscreteScheduler.__init__</c>'s parameters and defaults.</summary>
    private static SortedDictionary<string, object?> EulerDefaults() => Dict(
        ("num_train_timesteps", 1000L), ("beta_start", 0.0001), ("beta_end", 0.02), ("beta_schedule", "linear"), ("trained_betas", null),
        ("prediction_type", "epsilon"), ("interpolation_type", "linear"), ("use_karras_sigmas", false), ("use_exponential_sigmas", false),
        ("use_beta_sigmas", false), ("sigma_min", null), ("sigma_max", null), ("timestep_spacing", "linspace"), ("timestep_type", "discrete"),
        ("steps_offset", 0L), ("rescale_betas_zero_snr", false), ("final_sigmas_type", "zero"));

    /// <summary><c>unet/config.json</c>.</summary>
    public static string UNet(UNet2DConditionConfig config, string modelName) =>
        Diffusers("UNet2DConditionModel", UNetDefaults(), config.Source ?? throw NoSource(modelName, "UNet2DConditionModel"), nameOrPath: true);

    /// <summary><c>vae/config.json</c>.</summary>
    public static string Vae(AutoencoderKLConfig config, string modelName) =>
        Diffusers("AutoencoderKL", VaeDefaults(), config.Source ?? throw NoSource(modelName, "AutoencoderKL"), nameOrPath: true);

    /// <summary><c>scheduler/scheduler_config.json</c> (from the loaded file, or from the typed config when built in code).</summary>
    public static string EulerScheduler(EulerDiscreteSchedulerConfig config)
    {
        if (config.Source is { } source) return Diffusers("EulerDiscreteScheduler", EulerDefaults(), source, nameOrPath: false);
        var d = EulerDefaults();
        d["num_train_timesteps"] = (long)config.NumTrainTimesteps;
        d["beta_start"] = config.BetaStart;
        d["beta_end"] = config.BetaEnd;
        d["beta_schedule"] = config.BetaSchedule;
        d["trained_betas"] = config.TrainedBetas?.Select(b => (object?)b).ToList();
        d["prediction_type"] = config.PredictionType;
        d["interpolation_type"] = config.InterpolationType;
        d["timestep_spacing"] = config.TimestepSpacing;
        d["steps_offset"] = (long)config.StepsOffset;
        d["final_sigmas_type"] = config.FinalSigmasType;
        d["rescale_betas_zero_snr"] = config.RescaleBetasZeroSnr;
        d["_class_name"] = "EulerDiscreteScheduler";
        d["_diffusers_version"] = DiffusersVersion;
        return Dumps(d);
    }

    /// <summary>
    /// A CLIP text encoder's <c>config.json</c> as transformers 5 writes it: the loaded file's entries (or the typed
    /// config's), <c>architectures</c> = [<paramref name="architecture"/>], <c>dtype</c> = the saved weights' dtype.
    /// </summary>
    public static string ClipText(ClipTextConfig config, string architecture, ScalarType dtype)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (config.Source is { } source)
        {
            foreach (var p in source.Root.Properties) d[p.Key] = PythonJsonWriter.FromJson(p.Value);
        }
        void Default(string key, object? value)
        {
            if (!d.ContainsKey(key)) d[key] = value;
        }
        Default("vocab_size", (long)config.VocabSize);
        Default("hidden_size", (long)config.HiddenSize);
        Default("intermediate_size", (long)config.IntermediateSize);
        Default("projection_dim", (long)config.ProjectionDim);
        Default("num_hidden_layers", (long)config.NumHiddenLayers);
        Default("num_attention_heads", (long)config.NumAttentionHeads);
        Default("max_position_embeddings", (long)config.MaxPositionEmbeddings);
        Default("hidden_act", config.HiddenAct);
        Default("layer_norm_eps", config.LayerNormEps);
        Default("attention_dropout", 0.0);
        Default("initializer_range", 0.02);
        Default("initializer_factor", 1.0);
        Default("pad_token_id", (long)config.PadTokenId);
        Default("bos_token_id", (long)config.BosTokenId);
        Default("eos_token_id", (long)config.EosTokenId);
        // transformers 5 names the dtype "dtype" (4.x wrote torch_dtype) and does not write _name_or_path.
        d.Remove("torch_dtype");
        d.Remove("_name_or_path");
        d["architectures"] = List(architecture);
        d["model_type"] = "clip_text_model";
        d["dtype"] = DTypeName(dtype);
        d["transformers_version"] = TransformersVersion;
        return Dumps(d);
    }

    /// <summary>A <c>model_index.json</c> with the given class, components (name → [library, class] or [null, null]) and extra entries.</summary>
    public static string ModelIndex(string className, string? nameOrPath, IReadOnlyDictionary<string, (string? Library, string? Class)> components,
        IReadOnlyDictionary<string, object?> extra)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["_class_name"] = className,
            ["_diffusers_version"] = DiffusersVersion,
        };
        if (nameOrPath is not null) d["_name_or_path"] = nameOrPath;
        foreach (var kv in extra) d[kv.Key] = kv.Value;
        foreach (var c in components) d[c.Key] = new List<object?> { c.Value.Library, c.Value.Class };
        return Dumps(d);
    }

    /// <summary>PyTorch's name of a dtype (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>, <c>float64</c>).</summary>
    public static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float64 => "float64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a floating-point dtype"),
    };

    private static string Diffusers(string className, SortedDictionary<string, object?> defaults, ConfigFile source, bool nameOrPath)
    {
        var d = defaults;
        foreach (var p in source.Root.Properties)
        {
            // diffusers registers the __init__ parameters only (plus its private entries, set below).
            if (d.ContainsKey(p.Key)) d[p.Key] = PythonJsonWriter.FromJson(p.Value);
        }
        d["_class_name"] = className;
        d["_diffusers_version"] = DiffusersVersion;
        if (nameOrPath && string.Equals(Path.GetFileName(source.Path), "config.json", StringComparison.Ordinal))
            d["_name_or_path"] = Path.GetDirectoryName(source.Path);
        return Dumps(d);
    }

    private static ModelSaveException NoSource(string modelName, string className) =>
        new ModelSaveException(ModelSaveErrorKind.Unsupported, modelName,
            $"the {className} config was built in code, not read from a config.json; SavePretrained writes the config a model was loaded with");

    private static string Dumps(IReadOnlyDictionary<string, object?> d) => PythonJsonWriter.Dumps(d) + "\n";

    private static SortedDictionary<string, object?> Dict(params (string Key, object? Value)[] entries)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in entries) d[k] = v;
        return d;
    }

    private static List<object?> List(params object?[] items) => items.ToList();
}
