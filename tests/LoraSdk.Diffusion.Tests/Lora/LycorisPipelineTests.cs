using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using LoraSdk.Layers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// A kohya-named LyCORIS file on the tiny SDXL pipeline — LoHa (plain and Tucker) and LoKr (factorised, flat on a conv,
/// full/full with its alpha ignored) on UNet attention and resnet layers and on both text encoders — loaded with a
/// set_adapters weight, against the same models whose weights the test itself moved by weight · alpha/rank · ΔW (ΔW from
/// the formula, in float64); then fuse, unfuse (bit for bit), save in LoraSdk's diffusers-path form and reload
/// (the same outputs, bit for bit). Tolerance 1e-5 relative: the adapted layers add the update to the base output
/// where the reference multiplies by the moved weight, so the fp32 roundings differ.
/// </summary>
public sealed class LycorisPipelineTests
{
    private const double Weight = 0.8;
    private readonly ITestOutputHelper _output;

    public LycorisPipelineTests(ITestOutputHelper output) => _output = output;

    private sealed record Module(string Component, string Path, string Variant, double Alpha, double Scale, Dictionary<string, Tensor> Tensors)
    {
        public string KohyaName => Component switch
        {
            LoraComponents.Unet => "lora_unet_" + LoraKeyCanonicalizer.Underscored(Path),
            LoraComponents.TextEncoder => "lora_te1_text_model_" + LoraKeyCanonicalizer.Underscored(Path),
            _ => "lora_te2_text_model_" + LoraKeyCanonicalizer.Underscored(Path),
        };
    }

    private static List<Module> Modules()
    {
        using var g = new Generator(2024);
        Dictionary<string, Tensor> T(params (string Name, long[] Shape)[] tensors) =>
            tensors.ToDictionary(t => t.Name, t => randn(t.Shape, ScalarType.Float32, generator: g).mul_(0.3));
        return new List<Module>
        {
            new(LoraComponents.Unet, "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", "loha", 2, 2.0 / 4,
                T(("hada_w1_a", new long[] { 64, 4 }), ("hada_w1_b", new long[] { 4, 64 }), ("hada_w2_a", new long[] { 64, 4 }), ("hada_w2_b", new long[] { 4, 64 }))),
            new(LoraComponents.Unet, "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k", "lokr", 3, 3.0 / 2,
                T(("lokr_w1", new long[] { 8, 8 }), ("lokr_w2_a", new long[] { 8, 2 }), ("lokr_w2_b", new long[] { 2, 8 }))),
            new(LoraComponents.Unet, "down_blocks.1.resnets.0.conv1", "loha", 1.5, 1.5 / 3,
                T(("hada_t1", new long[] { 3, 3, 3, 3 }), ("hada_w1_a", new long[] { 3, 64 }), ("hada_w1_b", new long[] { 3, 32 }),
                  ("hada_t2", new long[] { 3, 3, 3, 3 }), ("hada_w2_a", new long[] { 3, 64 }), ("hada_w2_b", new long[] { 3, 32 }))),
            new(LoraComponents.Unet, "down_blocks.1.resnets.0.conv2", "lokr", 1, 1.0 / 2,
                T(("lokr_w1", new long[] { 4, 4 }), ("lokr_w2_a", new long[] { 16, 2 }), ("lokr_w2_b", new long[] { 2, 16 * 9 }))),
            new(LoraComponents.TextEncoder, "encoder.layers.0.self_attn.q_proj", "lokr", 7, 1,
                T(("lokr_w1", new long[] { 4, 4 }), ("lokr_w2", new long[] { 8, 8 }))),
            new(LoraComponents.TextEncoder2, "encoder.layers.0.mlp.fc1", "loha", 4, 4.0 / 2,
                T(("hada_w1_a", new long[] { 37, 2 }), ("hada_w1_b", new long[] { 2, 32 }), ("hada_w2_a", new long[] { 37, 2 }), ("hada_w2_b", new long[] { 2, 32 }))),
        };
    }

    /// <summary>ΔW from the formula, float64: LoHa (w1a·w1b) ⊙ (w2a·w2b) (Tucker term by term), LoKr kron block by block.</summary>
    private static Tensor Delta(Module m, long[] weightShape)
    {
        Tensor D(string name) => m.Tensors[name].to(ScalarType.Float64);
        Tensor Tucker(Tensor core, Tensor a, Tensor b)
        {
            var result = zeros(new[] { a.shape[1], b.shape[1], core.shape[2], core.shape[3] }, ScalarType.Float64);
            for (long i = 0; i < core.shape[0]; i++)
                for (long j = 0; j < core.shape[1]; j++)
                    result += a[i].view(-1, 1, 1, 1) * b[j].view(1, -1, 1, 1) * core[i, j].unsqueeze(0).unsqueeze(0);
            return result;
        }
        if (m.Variant == "loha")
        {
            var delta = m.Tensors.ContainsKey("hada_t1")
                ? Tucker(D("hada_t1"), D("hada_w1_a"), D("hada_w1_b")) * Tucker(D("hada_t2"), D("hada_w2_a"), D("hada_w2_b"))
                : D("hada_w1_a").matmul(D("hada_w1_b")) * D("hada_w2_a").matmul(D("hada_w2_b"));
            return delta.reshape(weightShape);
        }
        var w1 = D("lokr_w1");
        var w2 = m.Tensors.ContainsKey("lokr_w2") ? D("lokr_w2") : D("lokr_w2_a").matmul(D("lokr_w2_b"));
        var kron = zeros(new[] { w1.shape[0] * w2.shape[0], w1.shape[1] * w2.shape[1] }, ScalarType.Float64);
        for (long i = 0; i < w1.shape[0]; i++)
            for (long j = 0; j < w1.shape[1]; j++)
                kron.narrow(0, i * w2.shape[0], w2.shape[0]).narrow(1, j * w2.shape[1], w2.shape[1]).copy_(w2 * w1[i, j].item<double>());
        return kron.reshape(weightShape);
    }

    private static string WriteKohya(TempFolder temp, IEnumerable<Module> modules)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var m in modules)
        {
            foreach (var (suffix, t) in m.Tensors) tensors.Add(new(m.KohyaName + "." + suffix, t));
            tensors.Add(new(m.KohyaName + ".alpha", tensor((float)m.Alpha)));
        }
        string path = System.IO.Path.Combine(temp.Path, "lycoris.safetensors");
        SafetensorsWriter.Save(path, tensors);
        return path;
    }

    private static nn.Module ModelOf(LoraPipelineHarness p, string component) => component switch
    {
        LoraComponents.Unet => p.Unet,
        LoraComponents.TextEncoder => p.TextEncoder!,
        _ => p.TextEncoder2!,
    };

    /// <summary>The base weight of <paramref name="m"/>'s layer (the model's own parameter).</summary>
    private static Tensor BaseWeight(LoraPipelineHarness p, Module m)
    {
        var parameters = ModelOf(p, m.Component).named_parameters().ToDictionary(x => x.name, x => x.parameter);
        return parameters.TryGetValue(m.Path + ".weight", out var w) ? w
            : parameters.TryGetValue("text_model." + m.Path + ".weight", out w) ? w
            : throw new InvalidOperationException($"{m.Component} has no parameter {m.Path}.weight");
    }

    private static Tensor InputIds() => arange(1, 17, ScalarType.Int64).unsqueeze(0);

    private static (Tensor Unet, Tensor Te1, Tensor Te2) Run(LoraPipelineHarness p)
    {
        using var noGrad = no_grad();
        using var ids = InputIds();
        using var te1 = p.TextEncoder!.Forward(ids);
        using var te2 = p.TextEncoder2!.Forward(ids);
        return (p.RunUnet(), te1.LastHiddenState.detach().clone(), te2.LastHiddenState.detach().clone());
    }

    [Fact]
    public void KohyaLycorisFileAppliesLikeTheFormulaFusesUnfusesAndRoundTripsThroughASave()
    {
        using var scope = NewDisposeScope();
        var modules = Modules();
        using var temp = new TempFolder();
        string file = WriteKohya(temp, modules);

        // The reference: the same models with W ← W + weight · scale · ΔW, computed here.
        using var reference = new LoraPipelineHarness();
        using (no_grad())
        {
            foreach (var m in modules)
            {
                var w = BaseWeight(reference, m);
                using var delta = Delta(m, w.shape);
                w.add_((delta * (Weight * m.Scale)).to(w.dtype));
            }
        }
        var expected = Run(reference);

        using var p = new LoraPipelineHarness();
        var before = p.Checksums();
        var result = p.Manager.LoadLoraWeightsWithResult(file, "lyco");
        Assert.Equal(new Dictionary<string, int> { ["unet"] = 4, ["text_encoder"] = 1, ["text_encoder_2"] = 1 }, result.ModuleCounts);
        p.Manager.SetAdapters(new[] { "lyco" }, new[] { Weight });
        foreach (var m in modules)
        {
            var w = p.Manager[m.Component].GetLayer(m.Path)!.GetAdapter("lyco");
            Assert.Equal(m.Variant, w.Variant);
            Assert.Equal(Weight * m.Scale, w.Scaling, 14); // weight · alpha / rank, in PEFT's order
        }
        var actual = Run(p);
        _output.WriteLine($"unet: {TensorAssert.Close(actual.Unet, expected.Unet, "unet", 1e-5)}");
        _output.WriteLine($"text_encoder: {TensorAssert.Close(actual.Te1, expected.Te1, "text_encoder", 1e-5)}");
        _output.WriteLine($"text_encoder_2: {TensorAssert.Close(actual.Te2, expected.Te2, "text_encoder_2", 1e-5)}");

        p.Manager.FuseLora(loraScale: 1.0);
        var fused = Run(p);
        _output.WriteLine($"fused unet: {TensorAssert.Close(fused.Unet, expected.Unet, "fused unet", 1e-5)}");
        _output.WriteLine($"fused text_encoder_2: {TensorAssert.Close(fused.Te2, expected.Te2, "fused text_encoder_2", 1e-5)}");
        p.Manager.UnfuseLora();
        var afterUnfuse = p.Checksums();
        var parameters = before.Keys.Where(k => !k.EndsWith(".active", StringComparison.Ordinal) && !k.EndsWith(".adapters", StringComparison.Ordinal)).ToList();
        Assert.True(parameters.Count > 100, "every base parameter is compared");
        Assert.All(parameters, k => Assert.True(before[k].AsSpan().SequenceEqual(afterUnfuse[k]), $"{k} after unfuse"));
        var unfused = Run(p);
        TensorAssert.Equal(unfused.Unet, actual.Unet, "unet after unfuse");

        string saved = p.Manager.SaveLoraWeights(System.IO.Path.Combine(temp.Path, "saved"), "lyco");
        var model = LoraFileModel.Read(saved);
        Assert.Equal(LoraKeyFormats.LycorisDiffusers, model.Format);
        Assert.Contains("unet.down_blocks.1.resnets.0.conv1.hada_t1", model.Header.Tensors.Select(t => t.Name));
        Assert.Contains("text_encoder_2.text_model.encoder.layers.0.mlp.fc1.alpha", model.Header.Tensors.Select(t => t.Name));
        Assert.Equal(6, model.ModuleCount);

        using var reloaded = new LoraPipelineHarness();
        reloaded.Manager.LoadLoraWeights(saved, "again");
        reloaded.Manager.SetAdapters(new[] { "again" }, new[] { Weight });
        var again = Run(reloaded);
        TensorAssert.Equal(again.Unet, actual.Unet, "reloaded unet");
        TensorAssert.Equal(again.Te1, actual.Te1, "reloaded text_encoder");
        TensorAssert.Equal(again.Te2, actual.Te2, "reloaded text_encoder_2");
    }
}
