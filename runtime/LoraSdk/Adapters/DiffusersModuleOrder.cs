using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Adapters;

/// <summary>
/// PyTorch's <c>named_modules()</c> order of the models diffusers loads LoRA into — <c>UNet2DConditionModel</c>,
/// <c>FluxTransformer2DModel</c>, transformers' <c>CLIPTextModel</c>/<c>CLIPTextModelWithProjection</c> — told from
/// module paths alone, without the model. Children are visited in the order their constructors register them, so
/// ordering is a comparison segment by segment: list indices numerically, names by the registration order of the
/// classes that have them (one consistent ranking covers all these classes; e.g. diffusers' UNet registers
/// <c>up_blocks</c> before <c>mid_block</c>, CLIP's attention <c>k_proj</c> before <c>q_proj</c>). PEFT's
/// <c>add_weighted_adapter</c> draws DARE's random masks layer by layer in this order, so a merge without the base
/// model needs it to reproduce PEFT's draws. Names not in the ranking sort after the known ones (ordinal) and make
/// <see cref="IsKnown"/> false.
/// </summary>
public sealed class DiffusersModuleOrder : IComparer<string>
{
    // Registration order across the classes above (checked against the host's own models in the tests: these are
    // topologically consistent with every class's constructor order).
    private static readonly string[] Ranking =
    {
        // UNet2DConditionModel stem and embeddings
        "conv_in", "time_proj", "time_embedding", "encoder_hid_proj", "class_embedding", "add_time_proj", "add_embedding", "time_embed_act",
        // FluxTransformer2DModel stem and CombinedTimestepGuidanceTextProjEmbeddings
        "pos_embed", "time_text_embed", "timestep_embedder", "guidance_embedder", "text_embedder", "context_embedder", "x_embedder",
        // CLIPTextModel(WithProjection) → CLIPTextTransformer
        "text_model", "embeddings", "token_embedding", "position_embedding", "encoder", "layers",
        // UNet blocks (diffusers creates down_blocks and up_blocks before assigning mid_block)
        "down_blocks", "up_blocks", "mid_block", "attentions", "resnets", "downsamplers", "upsamplers",
        // AdaLayerNorm* (silu, linear, norm), Transformer2DModel, Flux blocks, BasicTransformerBlock, ResnetBlock2D
        "silu", "linear", "norm", "norm1", "norm1_context", "proj_in", "transformer_blocks", "single_transformer_blocks", "norm_out",
        "proj_mlp", "act_mlp", "proj_out", "attn", "attn1", "conv1", "time_emb_proj", "norm2", "attn2", "norm3", "dropout", "conv2",
        "conv_shortcut", "ff", "norm2_context", "ff_context",
        // CLIP text transformer tail and projection, encoder layer, attention, MLP
        "final_layer_norm", "text_projection", "self_attn", "layer_norm1", "mlp", "layer_norm2", "k_proj", "v_proj", "q_proj", "out_proj",
        "fc1", "fc2",
        // diffusers Attention / FluxAttention
        "group_norm", "norm_q", "norm_k", "to_q", "to_k", "to_v", "to_out", "norm_added_q", "norm_added_k", "add_q_proj", "add_k_proj",
        "add_v_proj", "to_add_out",
        // FeedForward, GELU/GEGLU, Down/Upsample2D, TimestepEmbedding, PixArtAlphaTextProjection
        "net", "proj", "conv", "linear_1", "cond_proj", "act", "act_1", "linear_2",
        // UNet tail
        "conv_norm_out", "conv_act", "conv_out",
    };

    private static readonly Dictionary<string, int> Ranks = BuildRanks();

    /// <summary>The comparer (stateless).</summary>
    public static DiffusersModuleOrder Instance { get; } = new DiffusersModuleOrder();

    private DiffusersModuleOrder() { }

    /// <summary>True when every segment of <paramref name="modulePath"/> is a list index or a name in the ranking.</summary>
    public static bool IsKnown(string modulePath)
    {
        if (modulePath == null) throw new ArgumentNullException(nameof(modulePath));
        foreach (var segment in modulePath.Split('.'))
        {
            if (!IsIndex(segment, out _) && !Ranks.ContainsKey(segment)) return false;
        }
        return true;
    }

    /// <summary>Negative when module <paramref name="x"/> comes before <paramref name="y"/> in <c>named_modules()</c>.</summary>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var a = x.Split('.');
        var b = y.Split('.');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = CompareSegment(a[i], b[i]);
            if (c != 0) return c;
        }
        // A module comes before its descendants (pre-order).
        return a.Length.CompareTo(b.Length);
    }

    private static int CompareSegment(string a, string b)
    {
        if (a == b) return 0;
        bool aIndex = IsIndex(a, out long ai), bIndex = IsIndex(b, out long bi);
        if (aIndex && bIndex) return ai.CompareTo(bi);
        if (aIndex != bIndex) return aIndex ? -1 : 1;
        bool aKnown = Ranks.TryGetValue(a, out int ar), bKnown = Ranks.TryGetValue(b, out int br);
        if (aKnown && bKnown) return ar.CompareTo(br);
        if (aKnown != bKnown) return aKnown ? -1 : 1;
        return string.CompareOrdinal(a, b);
    }

    private static bool IsIndex(string segment, out long index) =>
        long.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out index);

    private static Dictionary<string, int> BuildRanks()
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Ranking.Length; i++) ranks.Add(Ranking[i], i);
        return ranks;
    }
}
