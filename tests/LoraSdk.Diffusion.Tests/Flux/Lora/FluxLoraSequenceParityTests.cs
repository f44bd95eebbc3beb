using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Layers;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// The call sequences of <c>goldens.json → cases</c> (README 3.2) replayed through the FluxPipeline's LoRA API; at each
/// recorded case the transformer output must be ≤ 1e-4 relative to diffusers, the adapter state must equal
/// <c>adapter_state_after</c>, and recorded per-module scalings must be equal exactly. Fused weights are compared with
/// <c>weights/*</c>; unfuse restores the base weight bit for bit.
/// </summary>
public sealed class FluxLoraSequenceParityTests
{
    private const string ToQ = "transformer_blocks.0.attn.to_q";
    private static readonly string[] FusedModules = { ToQ, "transformer_blocks.1.ff_context.net.2", "single_transformer_blocks.1.proj_out" };
    private readonly ITestOutputHelper _output;

    public FluxLoraSequenceParityTests(ITestOutputHelper output) => _output = output;

    private sealed record Step(string Case, Action<FluxLoraHarness> Act, double? CallScale = null);

    private static readonly Step[] Main =
    {
        new("after_load_b_no_set_adapters", p =>
        {
            p.Load("flux_lora_a", "a");
            p.Load("flux_lora_b", "b");
        }),
        new("ab_0.7_0.8", p => p.Pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 })),
        new("ab_0.7_0.8_joint_attention_scale_0.5", _ => { }, 0.5),
        new("ab_default_weights", p => p.Pipe.SetAdapters(new[] { "a", "b" })),
        new("b_only_active", p => p.Manager.SetAdapters("b")),
        new("disabled", p =>
        {
            p.Pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            p.Pipe.DisableLora();
        }),
        new("re_enabled", p => p.Pipe.EnableLora()),
        new("after_delete_a", p => p.Pipe.DeleteAdapters(new[] { "a" })),
        new("after_delete_a_b", p => p.Pipe.DeleteAdapters(new[] { "b" })),
    };

    private static readonly Step[] FuseScaled =
    {
        new("fused_a_lora_scale_0.5", p =>
        {
            p.Load("flux_lora_a", "a");
            p.Pipe.FuseLora(loraScale: 0.5);
        }),
        new("fused_a_lora_scale_0.5_then_unfused", p => p.Pipe.UnfuseLora()),
        new("after_unload_lora_weights", p => p.Pipe.UnloadLoraWeights()),
    };

    private static readonly Step[] FuseAb =
    {
        new("fused_ab_0.7_0.8", p =>
        {
            p.Load("flux_lora_a", "a");
            p.Load("flux_lora_b", "b");
            p.Pipe.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
            p.Pipe.FuseLora(new[] { "a", "b" }, loraScale: 1.0);
        }),
        new("fused_ab_0.7_0.8_then_unfused", p => p.Pipe.UnfuseLora()),
    };

    private static readonly Step[] Hotswap =
    {
        new("hotswap_a_padded_rank8", p =>
        {
            p.Pipe.EnableLoraHotswap(8);
            p.Load("flux_lora_a", "a");
        }),
        new("hotswap_b_into_a_transformer_level", p =>
            p.Transformer.LoadLoraAdapter(FluxLoraHarness.LoraPath("flux_lora_b"), LoraComponents.Transformer, "a", hotswap: true,
                p.Manager.LoadOptions)),
    };

    public static IEnumerable<object[]> MainCases => Main.Select(s => new object[] { s.Case });

    public static IEnumerable<object[]> FuseScaledCases => FuseScaled.Select(s => new object[] { s.Case });

    public static IEnumerable<object[]> FuseAbCases => FuseAb.Select(s => new object[] { s.Case });

    public static IEnumerable<object[]> HotswapCases => Hotswap.Select(s => new object[] { s.Case });

    [Theory]
    [MemberData(nameof(MainCases))]
    public void MainSequenceMatchesDiffusers(string caseName) => Replay(Main, caseName);

    [Theory]
    [MemberData(nameof(FuseScaledCases))]
    public void FuseWithLoraScaleMatchesDiffusers(string caseName) => Replay(FuseScaled, caseName);

    [Theory]
    [MemberData(nameof(FuseAbCases))]
    public void FuseTwoAdaptersMatchesDiffusers(string caseName) => Replay(FuseAb, caseName);

    [Theory]
    [MemberData(nameof(HotswapCases))]
    public void HotswapMatchesDiffusers(string caseName) => Replay(Hotswap, caseName);

    private void Replay(Step[] steps, string caseName)
    {
        using var p = new FluxLoraHarness();
        var baseWeights = FusedModules.ToDictionary(m => m, m => ((Linear(p, m)).detach().clone()));
        try
        {
            foreach (var step in steps)
            {
                step.Act(p);
                if (step.Case != caseName)
                {
                    if (step.CallScale is double s) p.Run(scale: s).Dispose();
                    continue;
                }
                var node = GoldenSet.Flux.Node("cases", caseName);
                string key = node["output_key"]?.AsString() ?? "transformer/" + caseName;
                _output.WriteLine($"{key}: {p.Assert(key, scale: step.CallScale)}");
                if (node["adapter_state_after"] is JsonValue state) FluxLoraStateAssert.Matches(p.Manager, state);
                foreach (var scalesKey in new[] { "scales", "scales_after" })
                    if (node[scalesKey] is JsonValue scales) SequenceLoraParityTests.AssertScalings(p.Transformer, scales, partial: true);
                CheckWeights(p, caseName, node, baseWeights);
                return;
            }
            throw new InvalidOperationException("unknown case " + caseName);
        }
        finally
        {
            foreach (var w in baseWeights.Values) w.Dispose();
        }
    }

    private void CheckWeights(FluxLoraHarness p, string caseName, JsonValue node, Dictionary<string, Tensor> baseWeights)
    {
        foreach (var m in FusedModules)
        {
            using var golden = GoldenSet.Flux.Tensor($"weights/base/{m}.weight");
            TensorAssert.Equal(baseWeights[m], golden, $"weights/base/{m} (the checkpoint, bitwise)");
        }
        if (node["fused_weight_keys"] is JsonValue keys)
        {
            foreach (var k in keys.Items.Select(i => i.AsString()))
            {
                string module = k.Substring("weights/fused_a_0.5/".Length, k.Length - "weights/fused_a_0.5/".Length - ".weight".Length);
                using var expected = GoldenSet.Flux.Tensor(k);
                _output.WriteLine($"{k}: {TensorAssert.Close(Linear(p, module), expected, k, 1e-6)}");
            }
        }
        if (node["fused_weight_key"] is JsonValue fusedKey)
        {
            using var expected = GoldenSet.Flux.Tensor(fusedKey.AsString());
            _output.WriteLine($"{fusedKey.AsString()}: {TensorAssert.Close(Linear(p, ToQ), expected, fusedKey.AsString(), 1e-6)}");
        }
        if (caseName.EndsWith("then_unfused", StringComparison.Ordinal) || caseName == "after_unload_lora_weights")
        {
            // diffusers subtracts the delta again (≤ 1.5e-8 drift); the engine copies the original back.
            foreach (var m in FusedModules) TensorAssert.Equal(Linear(p, m), baseWeights[m], $"{m} restored (bitwise)");
        }
        if (node["lora_A_shape_after_padding"] is JsonValue padded)
            Assert.Equal(padded.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)p.Transformer.GetLayer(ToQ)!.GetAdapter("a")).A.shape);
        if (node["lora_A_shape_after"] is JsonValue after)
        {
            Assert.Equal(after.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)p.Transformer.GetLayer(ToQ)!.GetAdapter("a")).A.shape);
            // transformer_blocks.0.attn.to_k is in a only: its padded lora_A is zero after swapping b in.
            if (node["lora_A_of_a_only_module_is_zero"] is { Kind: JsonValueKind.True })
                Assert.Equal(0.0, ((LowRankWeights)p.Transformer.GetLayer("transformer_blocks.0.attn.to_k")!.GetAdapter("a")).A.abs().max().item<float>());
        }
    }

    private static Tensor Linear(FluxLoraHarness p, string module)
    {
        foreach (var (name, param) in p.Pipe.Transformer.named_parameters())
            if (name == module + ".weight") return param;
        throw new InvalidOperationException("no parameter " + module + ".weight");
    }
}
