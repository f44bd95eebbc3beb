using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// Walks a UNet2DConditionModel config the way diffusers' constructor does and lists every Linear / Conv2d with its
/// diffusers path, SGM path and shape. Supported block types: DownBlock2D / CrossAttnDownBlock2D,
/// UpBlock2D / CrossAttnUpBlock2D, mid UNetMidBlock2DCrossAttn / UNetMidBlock2D / none.
/// </summary>
internal sealed class UnetLayoutBuilder
{
    // Shared by many modules, so exposed read-only (a cast to int[] must not be able to change every layout).
    private static readonly IReadOnlyList<int> K1 = Array.AsReadOnly(new[] { 1, 1 });
    private static readonly IReadOnlyList<int> K3 = Array.AsReadOnly(new[] { 3, 3 });
    private static readonly IReadOnlyList<int> S1 = K1;
    private static readonly IReadOnlyList<int> S2 = Array.AsReadOnly(new[] { 2, 2 });
    private static readonly IReadOnlyList<int> P0 = Array.AsReadOnly(new[] { 0, 0 });
    private static readonly IReadOnlyList<int> P1 = K1;

    private readonly List<BaseModuleInfo> _modules = new List<BaseModuleInfo>();
    private readonly string _name;
    private long _timeEmbedDim;
    private bool _scaleShift;
    private bool _linearProjection;

    private UnetLayoutBuilder(string name) => _name = name;

    public static UnetLayout Build(JsonValue config, string name)
    {
        if (config.Kind != JsonValueKind.Object) throw Error(name, "the config is not a JSON object");
        return new UnetLayoutBuilder(name).Run(config);
    }

    private UnetLayout Run(JsonValue c)
    {
        var downTypes = StringList(c, "down_block_types");
        var upTypes = StringList(c, "up_block_types");
        var boc = IntList(c, "block_out_channels", null);
        int n = downTypes.Count;
        if (n == 0 || boc.Count != n || upTypes.Count != n)
            throw Error(_name, "down_block_types, up_block_types and block_out_channels must have the same non-zero length");
        foreach (int ch in boc) if (ch <= 0) throw Error(_name, "block_out_channels must be positive");
        var lpb = IntList(c, "layers_per_block", n);
        var cross = IntList(c, "cross_attention_dim", n);
        var tlpb = NestedIntList(c, "transformer_layers_per_block", n, 1);
        List<List<int>>? reverseTlpb = null;
        if (c.TryGetProperty("reverse_transformer_layers_per_block", out var rt) && !rt.IsNull)
            reverseTlpb = NestedIntList(c, "reverse_transformer_layers_per_block", n, 1);
        _linearProjection = Bool(c, "use_linear_projection", false);
        _scaleShift = Str(c, "resnet_time_scale_shift", "default") == "scale_shift";
        long inChannels = Int(c, "in_channels", 4);
        long outChannels = Int(c, "out_channels", 4);
        int convInKernel = (int)Int(c, "conv_in_kernel", 3);
        int convOutKernel = (int)Int(c, "conv_out_kernel", 3);
        int downsamplePadding = (int)Int(c, "downsample_padding", 1);
        string timeType = Str(c, "time_embedding_type", "positional") ?? "positional";
        long timeInput = timeType == "fourier" ? boc[0] * 2L : boc[0];
        _timeEmbedDim = c.TryGetProperty("time_embedding_dim", out var ted) && !ted.IsNull ? RequireInt(ted, "time_embedding_dim") : boc[0] * 4L;

        // Stem and embeddings.
        Conv("conv_in", "input_blocks.0.0", inChannels, boc[0], convInKernel, 1, (convInKernel - 1) / 2);
        Linear("time_embedding.linear_1", "time_embed.0", timeInput, _timeEmbedDim);
        Linear("time_embedding.linear_2", "time_embed.2", _timeEmbedDim, _timeEmbedDim);
        string? classType = Str(c, "class_embed_type", null);
        if (classType == "timestep" || classType == "projection")
        {
            long classIn = classType == "timestep" ? timeInput : Int(c, "projection_class_embeddings_input_dim", 0);
            Linear("class_embedding.linear_1", null, classIn, _timeEmbedDim);
            Linear("class_embedding.linear_2", null, _timeEmbedDim, _timeEmbedDim);
        }
        if (Str(c, "addition_embed_type", null) == "text_time")
        {
            long addIn = Int(c, "projection_class_embeddings_input_dim", 0);
            if (addIn <= 0) throw Error(_name, "addition_embed_type 'text_time' needs projection_class_embeddings_input_dim");
            Linear("add_embedding.linear_1", "label_emb.0.0", addIn, _timeEmbedDim);
            Linear("add_embedding.linear_2", "label_emb.0.2", _timeEmbedDim, _timeEmbedDim);
        }

        // Down blocks.
        long output = boc[0];
        int sgmIndex = 1;
        for (int i = 0; i < n; i++)
        {
            long input = output;
            output = boc[i];
            bool final = i == n - 1;
            bool attention = IsCrossAttention(downTypes[i], "Down");
            string block = "down_blocks." + I(i);
            for (int j = 0; j < lpb[i]; j++)
            {
                string sgm = "input_blocks." + I(sgmIndex + j);
                Resnet(block + ".resnets." + I(j), sgm + ".0", j == 0 ? input : output, output);
                if (attention)
                    Transformer(block + ".attentions." + I(j), sgm + ".1", output, PerLayer(tlpb[i], j), cross[i]);
            }
            if (!final)
                Conv(block + ".downsamplers.0.conv", "input_blocks." + I(sgmIndex + lpb[i]) + ".0.op", output, output, 3, 2, downsamplePadding);
            sgmIndex += lpb[i] + (final ? 0 : 1);
        }

        // Mid block.
        string midType = Str(c, "mid_block_type", "UNetMidBlock2DCrossAttn") ?? "";
        long midChannels = boc[n - 1];
        if (midType == "UNetMidBlock2DCrossAttn")
        {
            Resnet("mid_block.resnets.0", "middle_block.0", midChannels, midChannels);
            Transformer("mid_block.attentions.0", "middle_block.1", midChannels, PerLayer(tlpb[n - 1], 0), cross[n - 1]);
            Resnet("mid_block.resnets.1", "middle_block.2", midChannels, midChannels);
        }
        else if (midType == "UNetMidBlock2D")
        {
            Resnet("mid_block.resnets.0", "middle_block.0", midChannels, midChannels);
            Resnet("mid_block.resnets.1", null, midChannels, midChannels);
        }
        else if (midType.Length > 0)
        {
            throw Error(_name, $"unsupported mid_block_type '{midType}'");
        }

        // Up blocks.
        output = boc[n - 1];
        int outIndex = 0;
        for (int i = 0; i < n; i++)
        {
            bool final = i == n - 1;
            long prevOutput = output;
            output = boc[n - 1 - i];
            long input = boc[Math.Max(n - 2 - i, 0)];
            int layers = lpb[n - 1 - i] + 1;
            bool attention = IsCrossAttention(upTypes[i], "Up");
            var transformerLayers = reverseTlpb != null ? reverseTlpb[i] : tlpb[n - 1 - i];
            string block = "up_blocks." + I(i);
            for (int j = 0; j < layers; j++)
            {
                long skip = j == layers - 1 ? input : output;
                long resIn = j == 0 ? prevOutput : output;
                string sgm = "output_blocks." + I(outIndex + j);
                Resnet(block + ".resnets." + I(j), sgm + ".0", resIn + skip, output);
                if (attention)
                    Transformer(block + ".attentions." + I(j), sgm + ".1", output, PerLayer(transformerLayers, j), cross[n - 1 - i]);
            }
            if (!final)
                Conv(block + ".upsamplers.0.conv", "output_blocks." + I(outIndex + layers - 1) + (attention ? ".2" : ".1") + ".conv",
                    output, output, 3, 1, 1);
            outIndex += layers;
        }

        Conv("conv_out", "out.2", boc[0], outChannels, convOutKernel, 1, (convOutKernel - 1) / 2);
        return new UnetLayout(_name, _modules.AsReadOnly(), lpb.AsReadOnly(), cross.AsReadOnly());
    }

    private bool IsCrossAttention(string type, string direction)
    {
        if (type == "CrossAttn" + direction + "Block2D") return true;
        if (type == direction + "Block2D") return false;
        throw Error(_name, $"unsupported block type '{type}'");
    }

    private void Resnet(string path, string? sgm, long input, long output)
    {
        Conv(path + ".conv1", sgm == null ? null : sgm + ".in_layers.2", input, output, 3, 1, 1);
        Linear(path + ".time_emb_proj", sgm == null ? null : sgm + ".emb_layers.1", _timeEmbedDim, _scaleShift ? output * 2 : output);
        Conv(path + ".conv2", sgm == null ? null : sgm + ".out_layers.3", output, output, 3, 1, 1);
        if (input != output)
            Conv(path + ".conv_shortcut", sgm == null ? null : sgm + ".skip_connection", input, output, 1, 1, 0);
    }

    private void Transformer(string path, string sgm, long channels, int layers, long crossDim)
    {
        Projection(path + ".proj_in", sgm + ".proj_in", channels);
        for (int t = 0; t < layers; t++)
        {
            string tb = ".transformer_blocks." + I(t);
            foreach (string attn in new[] { ".attn1", ".attn2" })
            {
                long kvIn = attn == ".attn1" ? channels : crossDim;
                Linear(path + tb + attn + ".to_q", sgm + tb + attn + ".to_q", channels, channels);
                Linear(path + tb + attn + ".to_k", sgm + tb + attn + ".to_k", kvIn, channels);
                Linear(path + tb + attn + ".to_v", sgm + tb + attn + ".to_v", kvIn, channels);
                Linear(path + tb + attn + ".to_out.0", sgm + tb + attn + ".to_out.0", channels, channels);
            }
            Linear(path + tb + ".ff.net.0.proj", sgm + tb + ".ff.net.0.proj", channels, channels * 8);
            Linear(path + tb + ".ff.net.2", sgm + tb + ".ff.net.2", channels * 4, channels);
        }
        Projection(path + ".proj_out", sgm + ".proj_out", channels);
    }

    private void Projection(string path, string sgm, long channels)
    {
        if (_linearProjection) Linear(path, sgm, channels, channels);
        else Conv(path, sgm, channels, channels, 1, 1, 0);
    }

    private void Linear(string path, string? sgm, long input, long output) =>
        _modules.Add(new BaseModuleInfo(path, sgm, LoraLayerKind.Linear, input, output));

    private void Conv(string path, string? sgm, long input, long output, int kernel, int stride, int padding) =>
        _modules.Add(new BaseModuleInfo(path, sgm, LoraLayerKind.Conv2d, input, output,
            kernel == 1 ? K1 : kernel == 3 ? K3 : Array.AsReadOnly(new[] { kernel, kernel }),
            stride == 1 ? S1 : stride == 2 ? S2 : Array.AsReadOnly(new[] { stride, stride }),
            padding == 0 ? P0 : padding == 1 ? P1 : Array.AsReadOnly(new[] { padding, padding })));

    private static int PerLayer(List<int> counts, int layer) => counts.Count == 1 ? counts[0] : layer < counts.Count ? counts[layer] : counts[counts.Count - 1];

    private static string I(int i) => i.ToString(CultureInfo.InvariantCulture);

    private List<string> StringList(JsonValue c, string name)
    {
        if (!c.TryGetProperty(name, out var v) || v.Kind != JsonValueKind.Array) throw Error(_name, $"'{name}' must be an array of strings");
        var list = new List<string>();
        foreach (var item in v.Items)
        {
            if (item.Kind != JsonValueKind.String) throw Error(_name, $"'{name}' must be an array of strings");
            list.Add(item.AsString());
        }
        return list;
    }

    /// <summary>An int or an int array; a scalar is repeated <paramref name="repeat"/> times (when not null).</summary>
    private List<int> IntList(JsonValue c, string name, int? repeat)
    {
        if (!c.TryGetProperty(name, out var v)) throw Error(_name, $"'{name}' is missing");
        var list = new List<int>();
        if (v.Kind == JsonValueKind.Number && repeat != null)
        {
            int x = (int)RequireInt(v, name);
            for (int i = 0; i < repeat.Value; i++) list.Add(x);
            return list;
        }
        if (v.Kind != JsonValueKind.Array) throw Error(_name, $"'{name}' must be an integer or an array of integers");
        foreach (var item in v.Items) list.Add((int)RequireInt(item, name));
        if (repeat != null && list.Count != repeat.Value) throw Error(_name, $"'{name}' must have {repeat.Value} entries");
        return list;
    }

    /// <summary>An int, an array of ints, or an array of int arrays (per layer), one entry per block.</summary>
    private List<List<int>> NestedIntList(JsonValue c, string name, int blocks, int fallback)
    {
        var result = new List<List<int>>();
        if (!c.TryGetProperty(name, out var v) || v.IsNull)
        {
            for (int i = 0; i < blocks; i++) result.Add(new List<int> { fallback });
            return result;
        }
        if (v.Kind == JsonValueKind.Number)
        {
            int x = (int)RequireInt(v, name);
            for (int i = 0; i < blocks; i++) result.Add(new List<int> { x });
            return result;
        }
        if (v.Kind != JsonValueKind.Array || v.Items.Count != blocks) throw Error(_name, $"'{name}' must be an integer or have {blocks} entries");
        foreach (var item in v.Items)
        {
            if (item.Kind == JsonValueKind.Array)
            {
                var inner = new List<int>();
                foreach (var x in item.Items) inner.Add((int)RequireInt(x, name));
                if (inner.Count == 0) inner.Add(fallback);
                result.Add(inner);
            }
            else result.Add(new List<int> { (int)RequireInt(item, name) });
        }
        return result;
    }

    private long Int(JsonValue c, string name, long fallback) =>
        c.TryGetProperty(name, out var v) && !v.IsNull ? RequireInt(v, name) : fallback;

    private bool Bool(JsonValue c, string name, bool fallback)
    {
        if (!c.TryGetProperty(name, out var v) || v.IsNull) return fallback;
        if (v.Kind == JsonValueKind.True) return true;
        if (v.Kind == JsonValueKind.False) return false;
        throw Error(_name, $"'{name}' must be a boolean");
    }

    private string? Str(JsonValue c, string name, string? fallback)
    {
        if (!c.TryGetProperty(name, out var v) || v.IsNull) return fallback;
        if (v.Kind != JsonValueKind.String) throw Error(_name, $"'{name}' must be a string");
        return v.AsString();
    }

    private long RequireInt(JsonValue v, string name)
    {
        if (!v.TryGetInt64(out long x) || x < 0 || x > int.MaxValue) throw Error(_name, $"'{name}' must hold non-negative integers");
        return x;
    }

    private static LoraSdkFormatException Error(string layout, string reason) =>
        new LoraSdkFormatException($"UNet config ({layout}): {reason}");
}
