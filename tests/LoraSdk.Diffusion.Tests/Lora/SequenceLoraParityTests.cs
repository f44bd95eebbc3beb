using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The cumulative call sequences of the fixtures README ("Main sequence", the second pipeline, hotswap, UNet-level
/// API), replayed on the engine; at each recorded case the UNet output must be ≤ 1e-4 relative to diffusers, the
/// adapter state must equal <c>adapter_state_after</c>, and recorded per-module scalings must be equal.
/// </summary>
public sealed class SequenceLoraParityTests
{
    private const string ToQ = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
    private readonly ITestOutputHelper _output;

    public SequenceLoraParityTests(ITestOutputHelper output) => _output = output;

    private static readonly AdapterWeight BlockDict = AdapterWeight.Parse("""{"unet": {"down": 0.9, "mid": 0.5, "up": {"block_0": [0.4, 0.8, 1.0]}}}""");
    private static readonly AdapterWeight DocDict = AdapterWeight.Parse("""{"unet": {"down": 0.9, "mid": 0.5, "up": {"block_0": 0.6, "block_1": [0.4, 0.8, 1.0]}}}""");
    private static readonly AdapterWeight BDict = AdapterWeight.Parse("""{"unet": {"down": {"block_1": [0.3, 0.6]}, "mid": 0.2, "up": 0.5}}""");

    private sealed record Step(string Case, Action<LoraPipelineHarness> Act, double? CallScale = null);

    private static readonly Step[] Main =
    {
        new("a", p => p.Load("lora_a", "a")),
        new("a_cross_attention_scale_0.5", _ => { }, 0.5),
        new("a_after_scale_call", _ => { }),
        new("after_load_b_no_set_adapters", p => p.Load("lora_b", "b")),
        new("ab_0.7_0.8", p => p.Manager.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 })),
        new("ab_default_weights", p => p.Manager.SetAdapters(new[] { "a", "b" }, (IReadOnlyList<double>?)null)),
        new("a_block_scales", p => p.Manager.SetAdapters("a", BlockDict)),
        new("a_block_scales_doc_dict", p => p.Manager.SetAdapters("a", DocDict)),
        new("ab_block_scales", p => p.Manager.SetAdapterWeights(new[] { "a", "b" }, new AdapterWeight?[] { BlockDict, BDict })),
        new("fused_ab", p =>
        {
            p.Manager.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            p.Manager.FuseLora(new[] { "a", "b" }, 1.0);
        }),
        new("after_unfuse_ab", p => p.Manager.UnfuseLora()),
        new("fused_a_only", p => p.Manager.FuseLora(new[] { "a" }, 1.0)),
        new("after_unfuse_a", p => p.Manager.UnfuseLora()),
        new("disabled", p => p.Manager.DisableLora()),
        new("re_enabled", p => p.Manager.EnableLora()),
        new("after_delete_a", p => p.Manager.DeleteAdapters(new[] { "a" })),
        new("after_delete_a_b", p => p.Manager.DeleteAdapters(new[] { "b" })),
    };

    private static readonly Step[] Second =
    {
        new("fused_a_lora_scale_0.5", p =>
        {
            p.Load("lora_a", "a");
            p.Manager.FuseLora(new[] { "a" }, 0.5);
        }),
        new("fused_a_lora_scale_0.5_then_unfused", p => p.Manager.UnfuseLora()),
        new("after_unload_lora_weights", p => p.Manager.UnloadLoraWeights()),
    };

    private static readonly Step[] Hotswap =
    {
        new("hotswap_a_padded_rank8", p =>
        {
            p.Manager.EnableLoraHotswap(8);
            p.Load("lora_a", "a");
        }),
        new("hotswap_c_into_a", p => p.Load("lora_c", "a", hotswap: true)),
    };

    public static IEnumerable<object[]> MainCases => Main.Select(s => new object[] { s.Case });

    public static IEnumerable<object[]> SecondCases => Second.Select(s => new object[] { s.Case });

    public static IEnumerable<object[]> HotswapCases => Hotswap.Select(s => new object[] { s.Case });

    [Theory]
    [MemberData(nameof(MainCases))]
    public void MainSequenceMatchesDiffusers(string caseName) => Replay(Main, caseName);

    [Theory]
    [MemberData(nameof(SecondCases))]
    public void SecondPipelineMatchesDiffusers(string caseName) => Replay(Second, caseName);

    [Theory]
    [MemberData(nameof(HotswapCases))]
    public void HotswapSequenceMatchesDiffusers(string caseName) => Replay(Hotswap, caseName);

    private void Replay(Step[] steps, string caseName)
    {
        using var p = new LoraPipelineHarness();
        using var baseWeight = p.UnetComponent.GetLayer(ToQ)!.Weight.detach().clone();
        foreach (var step in steps)
        {
            step.Act(p);
            if (step.Case != caseName)
            {
                if (step.CallScale is double s) p.RunUnet(s).Dispose();
                continue;
            }
            var c = p.AssertUnet("unet/" + caseName, step.CallScale);
            _output.WriteLine($"unet/{caseName}: {c}");
            var node = GoldenSet.Reference.Node("cases", caseName);
            LoraStateAssert.Matches(p.Manager, node["adapter_state_after"]!);
            foreach (var key in new[] { "unet_scales", "unet_scales_first3", "unet_scales_first4" })
                if (node[key] is JsonValue scales) AssertScalings(p.UnetComponent, scales, partial: key != "unet_scales");
            if (node["fused_weight_key"] is JsonValue fusedKey)
            {
                using var expected = GoldenSet.Reference.Tensor(fusedKey.AsString());
                var w = TensorAssert.Close(p.UnetComponent.GetLayer(ToQ)!.Weight, expected, fusedKey.AsString(), 1e-6);
                _output.WriteLine($"{fusedKey.AsString()}: {w}");
            }
            if (caseName.StartsWith("after_unfuse", StringComparison.Ordinal) || caseName.EndsWith("then_unfused", StringComparison.Ordinal))
            {
                TensorAssert.Equal(p.UnetComponent.GetLayer(ToQ)!.Weight, baseWeight, "restored weight (bitwise)");
                using var golden = GoldenSet.Reference.Tensor("weights/base/" + ToQ + ".weight");
                TensorAssert.Equal(p.UnetComponent.GetLayer(ToQ)!.Weight, golden, "restored weight vs weights/base (bitwise)");
            }
            if (caseName == "hotswap_a_padded_rank8")
            {
                var shape = node["lora_A_shape_after_padding"]!.Items.Select(i => i.AsInt64()).ToArray();
                Assert.Equal(shape, ((LowRankWeights)p.UnetComponent.GetLayer(ToQ)!.GetAdapter("a")).A.shape);
            }
            return;
        }
        throw new InvalidOperationException("unknown case " + caseName);
    }

    /// <summary>module.scaling of every UNet LoRA module equals diffusers' (exact doubles: same formula, same order).</summary>
    internal static void AssertScalings(LoraComponent unet, JsonValue expected, bool partial)
    {
        var actual = unet.GetScalings().ToDictionary(kv => kv.Key, kv => kv.Value);
        if (!partial) Assert.Equal(expected.Properties.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var module in expected.Properties)
        {
            Assert.True(actual.ContainsKey(module.Key), $"no LoRA module {module.Key}");
            var got = actual[module.Key].ToDictionary(kv => kv.Key, kv => kv.Value);
            Assert.Equal(module.Value.Properties.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal), got.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var adapter in module.Value.Properties)
            {
                double e = adapter.Value.AsDouble();
                Assert.True(e == got[adapter.Key], string.Format(CultureInfo.InvariantCulture,
                    "{0} scaling[{1}]: expected {2:R}, got {3:R}", module.Key, adapter.Key, e, got[adapter.Key]));
            }
        }
    }
}
