using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// The LoRA-able layers of a diffusers <c>FluxTransformer2DModel</c>, enumerated from its <c>config.json</c> in
/// PyTorch's <c>named_modules()</c> order: the time / guidance / pooled-text embedders, <c>context_embedder</c>,
/// <c>x_embedder</c>, every double-stream block (<c>transformer_blocks.N</c>: AdaLN modulations, image and text
/// q/k/v/out projections, both feed-forwards), every single-stream block (<c>single_transformer_blocks.N</c>:
/// modulation, <c>proj_mlp</c>, <c>proj_out</c>, q/k/v), <c>norm_out.linear</c> and <c>proj_out</c> — each with its
/// diffusers path and in/out features. The counterpart of <see cref="UnetLayout"/> for Flux: used to resolve key names,
/// check an adapter against a base model, and by the typed-adapter generator.
/// </summary>
public sealed class FluxTransformerLayout
{
    /// <summary>Width of the sinusoidal timestep / guidance projections (<c>Timesteps(num_channels=256)</c>).</summary>
    public const int TimeProjectionDim = 256;

    private readonly Dictionary<string, BaseModuleInfo> _byPath = new Dictionary<string, BaseModuleInfo>(StringComparer.Ordinal);

    private FluxTransformerLayout(string name, int numLayers, int numSingleLayers, int attentionHeadDim, int numAttentionHeads,
        int jointAttentionDim, int pooledProjectionDim, int inChannels, int outChannels, int patchSize, bool guidanceEmbeds)
    {
        Name = name;
        NumLayers = numLayers;
        NumSingleLayers = numSingleLayers;
        AttentionHeadDim = attentionHeadDim;
        NumAttentionHeads = numAttentionHeads;
        JointAttentionDim = jointAttentionDim;
        PooledProjectionDim = pooledProjectionDim;
        InChannels = inChannels;
        OutChannels = outChannels;
        PatchSize = patchSize;
        GuidanceEmbeds = guidanceEmbeds;
        long inner = InnerDim;
        long mlp = MlpHiddenDim;
        var modules = new List<BaseModuleInfo>();
        void Linear(string path, long input, long output) => modules.Add(new BaseModuleInfo(path, null, LoraLayerKind.Linear, input, output));

        Linear("time_text_embed.timestep_embedder.linear_1", TimeProjectionDim, inner);
        Linear("time_text_embed.timestep_embedder.linear_2", inner, inner);
        if (guidanceEmbeds)
        {
            Linear("time_text_embed.guidance_embedder.linear_1", TimeProjectionDim, inner);
            Linear("time_text_embed.guidance_embedder.linear_2", inner, inner);
        }
        Linear("time_text_embed.text_embedder.linear_1", pooledProjectionDim, inner);
        Linear("time_text_embed.text_embedder.linear_2", inner, inner);
        Linear("context_embedder", jointAttentionDim, inner);
        Linear("x_embedder", inChannels, inner);
        for (int i = 0; i < numLayers; i++)
        {
            string b = "transformer_blocks." + I(i) + ".";
            Linear(b + "norm1.linear", inner, 6 * inner);
            Linear(b + "norm1_context.linear", inner, 6 * inner);
            foreach (var p in new[] { "attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0", "attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj", "attn.to_add_out" })
                Linear(b + p, inner, inner);
            Linear(b + "ff.net.0.proj", inner, 4 * inner);
            Linear(b + "ff.net.2", 4 * inner, inner);
            Linear(b + "ff_context.net.0.proj", inner, 4 * inner);
            Linear(b + "ff_context.net.2", 4 * inner, inner);
        }
        for (int i = 0; i < numSingleLayers; i++)
        {
            string b = "single_transformer_blocks." + I(i) + ".";
            Linear(b + "norm.linear", inner, 3 * inner);
            Linear(b + "proj_mlp", inner, mlp);
            Linear(b + "proj_out", inner + mlp, inner);
            foreach (var p in new[] { "attn.to_q", "attn.to_k", "attn.to_v" }) Linear(b + p, inner, inner);
        }
        Linear("norm_out.linear", inner, 2 * inner);
        Linear("proj_out", inner, (long)patchSize * patchSize * outChannels);
        Modules = modules.AsReadOnly();
        foreach (var m in modules) _byPath[m.Path] = m;
    }

    /// <summary>A short name: <c>"flux"</c> for <see cref="Flux1Dev"/>, or the name given to <see cref="FromTransformerConfigJson"/>.</summary>
    public string Name { get; }

    /// <summary>Double-stream blocks (<c>num_layers</c>; 19 for FLUX.1).</summary>
    public int NumLayers { get; }

    /// <summary>Single-stream blocks (<c>num_single_layers</c>; 38 for FLUX.1).</summary>
    public int NumSingleLayers { get; }

    /// <summary>Width of one attention head (128 for FLUX.1).</summary>
    public int AttentionHeadDim { get; }

    /// <summary>Attention heads (24 for FLUX.1).</summary>
    public int NumAttentionHeads { get; }

    /// <summary>Width of the T5 embeddings <c>context_embedder</c> reads (4096 for FLUX.1).</summary>
    public int JointAttentionDim { get; }

    /// <summary>Width of the pooled CLIP embedding (768 for FLUX.1).</summary>
    public int PooledProjectionDim { get; }

    /// <summary>Channels of the packed latent tokens (64 for FLUX.1).</summary>
    public int InChannels { get; }

    /// <summary>Output channels (<c>out_channels</c>, default <see cref="InChannels"/>).</summary>
    public int OutChannels { get; }

    /// <summary>Patch size (1 for FLUX.1).</summary>
    public int PatchSize { get; }

    /// <summary>Whether the model has the guidance embedder (FLUX.1-dev: true; schnell: false).</summary>
    public bool GuidanceEmbeds { get; }

    /// <summary>Hidden width: heads × head width (3072 for FLUX.1).</summary>
    public long InnerDim => (long)NumAttentionHeads * AttentionHeadDim;

    /// <summary>Width of a single-stream block's MLP (<c>int(dim * mlp_ratio)</c> with diffusers' fixed ratio 4.0).</summary>
    public long MlpHiddenDim => 4 * InnerDim;

    /// <summary>Every LoRA-able layer, in <c>named_modules()</c> order.</summary>
    public IReadOnlyList<BaseModuleInfo> Modules { get; }

    /// <summary>Looks a layer up by its diffusers path.</summary>
    public bool TryGetModule(string path, out BaseModuleInfo module) => _byPath.TryGetValue(path, out module!);

    /// <summary>black-forest-labs/FLUX.1-dev (<c>transformer/config.json</c>): 19 double and 38 single blocks, width 3072, guidance embedder.</summary>
    public static FluxTransformerLayout Flux1Dev { get; } = FromTransformerConfigJson(BuiltInFluxConfigs.Flux1Dev, LoraArchitectures.Flux);

    /// <summary>The built-in layouts, in the order architecture inference tries them.</summary>
    public static IReadOnlyList<FluxTransformerLayout> BuiltIn { get; } = new[] { Flux1Dev };

    /// <summary>
    /// True when <paramref name="configJson"/> is a diffusers <c>FluxTransformer2DModel</c> config (its
    /// <c>_class_name</c>); false for anything else, including text that is not a JSON object.
    /// </summary>
    public static bool IsTransformerConfig(string configJson)
    {
        if (configJson == null) throw new ArgumentNullException(nameof(configJson));
        try
        {
            var root = JsonValue.Parse(configJson);
            return root.Kind == JsonValueKind.Object && root["_class_name"] is { Kind: JsonValueKind.String } c && c.AsString() == "FluxTransformer2DModel";
        }
        catch (JsonParseException)
        {
            return false;
        }
    }

    /// <summary>Enumerates the layout of a diffusers <c>FluxTransformer2DModel</c> from its <c>config.json</c> text (diffusers' defaults for absent fields).</summary>
    /// <param name="configJson">The config text.</param>
    /// <param name="name">The layout's <see cref="Name"/>.</param>
    /// <exception cref="LoraSdkFormatException">The text is not JSON, names another model class, or has invalid values.</exception>
    public static FluxTransformerLayout FromTransformerConfigJson(string configJson, string name = "custom")
    {
        if (configJson == null) throw new ArgumentNullException(nameof(configJson));
        if (name == null) throw new ArgumentNullException(nameof(name));
        JsonValue root;
        try
        {
            root = JsonValue.Parse(configJson);
        }
        catch (JsonParseException e)
        {
            throw new LoraSdkFormatException("Flux transformer config.json: " + e.Message, e);
        }
        if (root.Kind != JsonValueKind.Object) throw Error(name, "not a JSON object");
        if (root["_class_name"] is { Kind: JsonValueKind.String } cls && cls.AsString() != "FluxTransformer2DModel")
            throw Error(name, $"'_class_name' is '{cls.AsString()}', expected 'FluxTransformer2DModel'");
        int inChannels = Int(root, "in_channels", 64, name, positive: true);
        int outChannels = root["out_channels"] is { } o && !o.IsNull ? Int(root, "out_channels", inChannels, name, positive: true) : inChannels;
        bool guidance = false;
        if (root["guidance_embeds"] is { } g && !g.IsNull)
        {
            if (g.Kind != JsonValueKind.True && g.Kind != JsonValueKind.False) throw Error(name, "'guidance_embeds' must be a boolean");
            guidance = g.Kind == JsonValueKind.True;
        }
        return new FluxTransformerLayout(name,
            Int(root, "num_layers", 19, name, positive: false),
            Int(root, "num_single_layers", 38, name, positive: false),
            Int(root, "attention_head_dim", 128, name, positive: true),
            Int(root, "num_attention_heads", 24, name, positive: true),
            Int(root, "joint_attention_dim", 4096, name, positive: true),
            Int(root, "pooled_projection_dim", 768, name, positive: true),
            inChannels, outChannels,
            Int(root, "patch_size", 1, name, positive: true),
            guidance);
    }

    private static int Int(JsonValue root, string property, int fallback, string name, bool positive)
    {
        if (!root.TryGetProperty(property, out var v) || v.IsNull) return fallback;
        if (!v.TryGetInt64(out long x) || x < (positive ? 1 : 0) || x > int.MaxValue)
            throw Error(name, $"'{property}' must be a {(positive ? "positive" : "non-negative")} integer");
        return (int)x;
    }

    private static string I(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static LoraSdkFormatException Error(string layout, string reason) =>
        new LoraSdkFormatException($"Flux transformer config ({layout}): {reason}");
}
