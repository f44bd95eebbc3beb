using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// The LoRA-able layers of a CLIP text encoder (transformers <c>CLIPTextModel</c> / <c>CLIPTextModelWithProjection</c>)
/// in the host's layout, i.e. without the <c>text_model.</c> level: <c>encoder.layers.N.self_attn.{q,k,v,out}_proj</c>,
/// <c>encoder.layers.N.mlp.fc1/fc2</c> and, with a projection, <c>text_projection</c>.
/// </summary>
public sealed class TextEncoderLayout
{
    private readonly Dictionary<string, BaseModuleInfo> _byPath = new Dictionary<string, BaseModuleInfo>(StringComparer.Ordinal);

    /// <summary>Creates a layout.</summary>
    /// <param name="name">Short name reported in diagnostics.</param>
    /// <param name="numHiddenLayers">Encoder layers.</param>
    /// <param name="hiddenSize">Hidden width.</param>
    /// <param name="intermediateSize">MLP width.</param>
    /// <param name="projectionDim">Width of <c>text_projection</c>, or 0 when the model has none.</param>
    public TextEncoderLayout(string name, int numHiddenLayers, int hiddenSize, int intermediateSize, int projectionDim)
    {
        if (numHiddenLayers < 0 || hiddenSize <= 0 || intermediateSize <= 0 || projectionDim < 0)
            throw new ArgumentOutOfRangeException(nameof(numHiddenLayers), "text encoder sizes must be positive");
        Name = name ?? throw new ArgumentNullException(nameof(name));
        NumHiddenLayers = numHiddenLayers;
        HiddenSize = hiddenSize;
        IntermediateSize = intermediateSize;
        ProjectionDim = projectionDim;
        var modules = new List<BaseModuleInfo>();
        for (int i = 0; i < numHiddenLayers; i++)
        {
            string layer = "encoder.layers." + i.ToString(CultureInfo.InvariantCulture);
            foreach (string p in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
                modules.Add(new BaseModuleInfo(layer + ".self_attn." + p, null, LoraLayerKind.Linear, hiddenSize, hiddenSize));
            modules.Add(new BaseModuleInfo(layer + ".mlp.fc1", null, LoraLayerKind.Linear, hiddenSize, intermediateSize));
            modules.Add(new BaseModuleInfo(layer + ".mlp.fc2", null, LoraLayerKind.Linear, intermediateSize, hiddenSize));
        }
        if (projectionDim > 0)
            modules.Add(new BaseModuleInfo("text_projection", null, LoraLayerKind.Linear, hiddenSize, projectionDim));
        Modules = modules.AsReadOnly();
        foreach (var m in modules) _byPath[m.Path] = m;
    }

    /// <summary>Short name (<c>"clip-l"</c>, <c>"clip-g"</c>, <c>"openclip-h"</c>, or a custom one).</summary>
    public string Name { get; }

    /// <summary>Number of encoder layers.</summary>
    public int NumHiddenLayers { get; }

    /// <summary>Hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>MLP width.</summary>
    public int IntermediateSize { get; }

    /// <summary>Width of <c>text_projection</c>; 0 when absent.</summary>
    public int ProjectionDim { get; }

    /// <summary>Every LoRA-able layer, in model order.</summary>
    public IReadOnlyList<BaseModuleInfo> Modules { get; }

    /// <summary>Looks a layer up by its path (without <c>text_model.</c>).</summary>
    public bool TryGetModule(string path, out BaseModuleInfo module) => _byPath.TryGetValue(path, out module!);

    /// <summary>OpenAI CLIP ViT-L/14 text encoder: SD 1.x and SDXL's <c>text_encoder</c> (12 layers, 768 wide).</summary>
    public static TextEncoderLayout ClipL { get; } = new TextEncoderLayout("clip-l", 12, 768, 3072, 0);

    /// <summary>OpenCLIP ViT-bigG/14 with projection: SDXL's <c>text_encoder_2</c> (32 layers, 1280 wide).</summary>
    public static TextEncoderLayout ClipG { get; } = new TextEncoderLayout("clip-g", 32, 1280, 5120, 1280);

    /// <summary>OpenCLIP ViT-H/14 as SD 2.x ships it (23 layers, 1024 wide).</summary>
    public static TextEncoderLayout OpenClipH { get; } = new TextEncoderLayout("openclip-h", 23, 1024, 4096, 0);

    /// <summary>The built-in layouts.</summary>
    public static IReadOnlyList<TextEncoderLayout> BuiltIn { get; } = new[] { ClipL, ClipG, OpenClipH };

    /// <summary>
    /// Reads a transformers CLIP text config (<c>num_hidden_layers</c>, <c>hidden_size</c>, <c>intermediate_size</c>;
    /// <c>projection_dim</c> counts only when <c>architectures</c> names <c>CLIPTextModelWithProjection</c>).
    /// </summary>
    /// <exception cref="LoraSdkFormatException">The text is not JSON or lacks required fields.</exception>
    public static TextEncoderLayout FromConfigJson(string configJson, string name = "custom")
    {
        if (configJson == null) throw new ArgumentNullException(nameof(configJson));
        JsonValue root;
        try
        {
            root = JsonValue.Parse(configJson);
        }
        catch (JsonParseException e)
        {
            throw new LoraSdkFormatException("text encoder config.json: " + e.Message, e);
        }
        if (root.Kind != JsonValueKind.Object) throw new LoraSdkFormatException("text encoder config.json: not a JSON object");
        int layers = RequiredInt(root, "num_hidden_layers");
        int hidden = RequiredInt(root, "hidden_size");
        int intermediate = RequiredInt(root, "intermediate_size");
        int projection = 0;
        if (root.TryGetProperty("architectures", out var arch) && arch.Kind == JsonValueKind.Array)
        {
            foreach (var a in arch.Items)
                if (a.Kind == JsonValueKind.String && a.AsString() == "CLIPTextModelWithProjection")
                    projection = RequiredInt(root, "projection_dim");
        }
        if (hidden <= 0 || intermediate <= 0) throw new LoraSdkFormatException("text encoder config.json: sizes must be positive");
        return new TextEncoderLayout(name, layers, hidden, intermediate, projection);
    }

    private static int RequiredInt(JsonValue root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || !v.TryGetInt64(out long x) || x < 0 || x > int.MaxValue)
            throw new LoraSdkFormatException($"text encoder config.json: '{name}' must be a non-negative integer");
        return (int)x;
    }
}
