using LoraSdk.Layers;
using System;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// <c>goldens.json → injected_modules</c>: after loading each fixture file, every component has exactly the LoRA
/// modules PEFT wrapped, with the same layer class, r, lora_alpha, scaling (exact) and lora_A / lora_B shapes, and the
/// component's PEFT config has the same r, lora_alpha, target_modules (as a set), patterns and rsLoRA flag.
/// </summary>
public sealed class InjectedModulesParityTests
{
    private readonly ITestOutputHelper _output;

    public InjectedModulesParityTests(ITestOutputHelper output) => _output = output;

    /// <summary>transformers 5's CLIPTextModelWithProjection keeps a <c>text_model.</c> level the host's text encoder does not have.</summary>
    private static string HostPath(string path) => path.StartsWith("text_model.", StringComparison.Ordinal) ? path.Substring("text_model.".Length) : path;

    [Theory]
    [InlineData("lora_a")]
    [InlineData("lora_b")]
    [InlineData("lora_c")]
    [InlineData("lora_d")]
    [InlineData("lora_a_kohya")]
    [InlineData("lora_a_kohya_converter_raw")]
    [InlineData("lora_a_old_diffusers")]
    [InlineData("lora_a_te_classic_keys")]
    public void InjectedModulesMatchPeft(string tag)
    {
        using var p = new LoraPipelineHarness();
        p.Load(tag, tag);
        var golden = GoldenSet.Reference.Node("injected_modules", tag);
        Assert.Equal(golden.Properties.Select(x => x.Key).OrderBy(k => k, StringComparer.Ordinal),
            p.Manager.GetListAdapters().Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (componentName, expected) in golden.Properties.Select(x => (x.Key, x.Value)))
        {
            var component = p.Manager[componentName];
            var modules = expected["modules"]!;
            Assert.Equal((int)expected["num_modules"]!.AsInt64(), component.GetAdapterModulePaths(tag).Count);
            Assert.Equal(modules.Properties.Select(x => HostPath(x.Key)).OrderBy(k => k, StringComparer.Ordinal),
                component.GetAdapterModulePaths(tag).OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (path, m) in modules.Properties.Select(x => (x.Key, x.Value)))
            {
                var layer = component.GetLayer(HostPath(path))!;
                var w = layer.GetAdapter(tag);
                string where = $"{tag} {componentName}.{path}";
                Assert.True((m["lora_layer_class"]!.AsString() == "Conv2d") == layer.IsConvolution, where + " layer class");
                Assert.Equal((int)m["r"]!.AsInt64(), w.ConfiguredRank);
                Assert.True(m["lora_alpha"]!.AsDouble() == w.Alpha, $"{where} lora_alpha {m["lora_alpha"]!.AsDouble()} vs {w.Alpha}");
                Assert.True(m["scaling"]!.AsDouble() == w.Scaling, $"{where} scaling {m["scaling"]!.AsDouble()} vs {w.Scaling}");
                Assert.Equal(m["lora_A_shape"]!.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)w).A.shape);
                Assert.Equal(m["lora_B_shape"]!.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)w).B.shape);
            }
            var config = component.GetAdapterConfig(tag);
            var peft = expected["peft_config"]!;
            Assert.Equal((int)peft["r"]!.AsInt64(), config.R);
            Assert.Equal(peft["lora_alpha"]!.AsDouble(), config.LoraAlpha);
            Assert.Equal(peft["use_rslora"]!.Kind == JsonValueKind.True, config.UseRsLora);
            Assert.Equal(peft["target_modules"]!.Items.Select(i => i.AsString()).OrderBy(s => s, StringComparer.Ordinal),
                config.TargetModules.OrderBy(s => s, StringComparer.Ordinal));
            Assert.Equal(peft["rank_pattern"]!.Properties.Count, config.RankPattern.Count);
            Assert.Equal(peft["alpha_pattern"]!.Properties.Count, config.AlphaPattern.Count);
            _output.WriteLine($"{tag} {componentName}: {component.GetAdapterModulePaths(tag).Count} modules, r={config.R}, alpha={config.LoraAlpha}");
        }
    }
}
