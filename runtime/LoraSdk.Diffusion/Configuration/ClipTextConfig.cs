namespace LoraSdk.Diffusion.Configuration;

/// <summary>The transformers <c>CLIPTextConfig</c> entries the CLIP text encoders use.</summary>
public sealed class ClipTextConfig
{
    /// <summary>The file the config was read from (kept so saving writes every entry back), or null for a config built in code.</summary>
    public ConfigFile? Source { get; init; }

    /// <summary>Token vocabulary size.</summary>
    public int VocabSize { get; init; } = 49408;

    /// <summary>Hidden width.</summary>
    public int HiddenSize { get; init; } = 512;

    /// <summary>MLP width.</summary>
    public int IntermediateSize { get; init; } = 2048;

    /// <summary>Width of <c>text_projection</c> (CLIPTextModelWithProjection).</summary>
    public int ProjectionDim { get; init; } = 512;

    /// <summary>Encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Attention heads.</summary>
    public int NumAttentionHeads { get; init; } = 8;

    /// <summary>Position embeddings (maximum sequence length).</summary>
    public int MaxPositionEmbeddings { get; init; } = 77;

    /// <summary>MLP activation: <c>quick_gelu</c>, <c>gelu</c>, …</summary>
    public string HiddenAct { get; init; } = "quick_gelu";

    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>End-of-text id; 2 selects transformers' legacy pooling (argmax of the ids).</summary>
    public int EosTokenId { get; init; } = 49407;

    /// <summary>Beginning-of-text id.</summary>
    public int BosTokenId { get; init; } = 49406;

    /// <summary>Padding id.</summary>
    public int PadTokenId { get; init; } = 1;

    /// <summary>The dtype the weights were saved in (<c>dtype</c> / <c>torch_dtype</c>), or null.</summary>
    public string? StoredDType { get; init; }

    /// <summary>Reads a transformers CLIP text <c>config.json</c>.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing file or wrong types.</exception>
    public static ClipTextConfig Load(string path) => FromConfig(ConfigFile.Load(path));

    /// <summary>Builds the config from parsed JSON with transformers' defaults.</summary>
    public static ClipTextConfig FromConfig(ConfigFile c)
    {
        var cfg = new ClipTextConfig
        {
            Source = c,
            VocabSize = c.GetInt("vocab_size", 49408),
            HiddenSize = c.GetInt("hidden_size", 512),
            IntermediateSize = c.GetInt("intermediate_size", 2048),
            ProjectionDim = c.GetInt("projection_dim", 512),
            NumHiddenLayers = c.GetInt("num_hidden_layers", 12),
            NumAttentionHeads = c.GetInt("num_attention_heads", 8),
            MaxPositionEmbeddings = c.GetInt("max_position_embeddings", 77),
            HiddenAct = c.GetString("hidden_act", "quick_gelu")!,
            LayerNormEps = c.GetDouble("layer_norm_eps", 1e-5),
            EosTokenId = c.GetInt("eos_token_id", 49407),
            BosTokenId = c.GetInt("bos_token_id", 49406),
            PadTokenId = c.GetInt("pad_token_id", 1),
            StoredDType = c.GetString("dtype", c.GetString("torch_dtype", null)),
        };
        if (cfg.HiddenSize % cfg.NumAttentionHeads != 0)
            throw c.InvalidValue("num_attention_heads",
                $"embed_dim must be divisible by num_heads (got `embed_dim`: {cfg.HiddenSize} and `num_heads`: {cfg.NumAttentionHeads}).");
        if (cfg.HiddenAct is not ("quick_gelu" or "gelu" or "gelu_new" or "gelu_pytorch_tanh" or "relu" or "silu"))
            throw c.Unsupported("hidden_act", $"activation '{cfg.HiddenAct}' is not supported");
        return cfg;
    }
}
