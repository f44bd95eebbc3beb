namespace LoraSdk.Diffusion.Configuration;

/// <summary>The transformers <c>T5Config</c> entries the T5 encoder uses (<c>text_encoder_2/config.json</c> of Flux).</summary>
public sealed class T5Config
{
    /// <summary>Token vocabulary size (rows of <c>shared.weight</c>).</summary>
    public int VocabSize { get; init; } = 32128;

    /// <summary>Hidden width.</summary>
    public int DModel { get; init; } = 512;

    /// <summary>Width of one attention head.</summary>
    public int DKv { get; init; } = 64;

    /// <summary>Feed-forward width.</summary>
    public int DFf { get; init; } = 2048;

    /// <summary>Encoder blocks.</summary>
    public int NumLayers { get; init; } = 6;

    /// <summary>Attention heads.</summary>
    public int NumHeads { get; init; } = 8;

    /// <summary>Relative-position buckets.</summary>
    public int RelativeAttentionNumBuckets { get; init; } = 32;

    /// <summary>Largest distance with its own log-spaced bucket.</summary>
    public int RelativeAttentionMaxDistance { get; init; } = 128;

    /// <summary>RMS-norm epsilon.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-6;

    /// <summary>The feed-forward activation (<c>dense_act_fn</c>: <c>relu</c>, <c>gelu_new</c>, …).</summary>
    public string DenseActFn { get; init; } = "relu";

    /// <summary>Whether the feed-forward is gated (<c>wi_0</c>/<c>wi_1</c>, <c>feed_forward_proj="gated-…"</c>).</summary>
    public bool IsGatedAct { get; init; }

    /// <summary>Reads a transformers T5 <c>config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file, wrong types or an unsupported activation.</exception>
    public static T5Config Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>
    /// Builds the config from parsed JSON with transformers' defaults. <c>feed_forward_proj</c> decides the activation
    /// and gating as transformers does (<c>"gated-gelu"</c> → gated <c>gelu_new</c>).
    /// </summary>
    public static T5Config FromConfig(ConfigFile c)
    {
        string proj = c.GetString("feed_forward_proj", "relu")!;
        string[] parts = proj.Split('-');
        bool gated = parts.Length == 2 && parts[0] == "gated";
        if (parts.Length > 2 || (parts.Length == 2 && !gated))
            throw c.InvalidValue("feed_forward_proj",
                $"`feed_forward_proj`: {proj} is not a valid activation function of the dense layer. Please make sure `feed_forward_proj` is of the format `gated-{{ACT_FN}}` or `{{ACT_FN}}`, e.g. 'gated-gelu' or 'relu'");
        string act = parts[^1];
        if (proj == "gated-gelu") act = "gelu_new";
        if (act is not ("relu" or "gelu" or "gelu_new" or "gelu_pytorch_tanh" or "silu" or "quick_gelu"))
            throw c.Unsupported("feed_forward_proj", $"activation '{act}' is not supported");
        var cfg = new T5Config
        {
            VocabSize = c.GetInt("vocab_size", 32128),
            DModel = c.GetInt("d_model", 512),
            DKv = c.GetInt("d_kv", 64),
            DFf = c.GetInt("d_ff", 2048),
            NumLayers = c.GetInt("num_layers", 6),
            NumHeads = c.GetInt("num_heads", 8),
            RelativeAttentionNumBuckets = c.GetInt("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance = c.GetInt("relative_attention_max_distance", 128),
            LayerNormEpsilon = c.GetDouble("layer_norm_epsilon", 1e-6),
            DenseActFn = act,
            IsGatedAct = gated,
        };
        if (cfg.NumLayers < 1 || cfg.NumHeads < 1 || cfg.DKv < 1 || cfg.DModel < 1 || cfg.DFf < 1)
            throw c.InvalidValue("num_layers", "sizes must be positive");
        return cfg;
    }
}
