using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Layers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The tiny SDXL UNet pinned for CUDA graphs (the graph-stable forward, run eagerly on the CPU) through the guide's
/// order — <c>enable_lora_hotswap</c>, load, pin, then weights, activation within the pin, runtime scale,
/// disable/enable and a hotswap — against diffusers' goldens (1e-4 relative) and the same UNet never pinned (1e-5
/// relative: the scale multiplies the rank-r hidden state instead of being the GEMM's alpha). Every LoRA tensor and
/// the scale buffer keep their storage throughout.
/// </summary>
public sealed class GraphPinnedUNetParityTests
{
    private const double VsNormal = 1e-5;
    private readonly ITestOutputHelper _output;

    public GraphPinnedUNetParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Pinned_unet_follows_weights_activation_runtime_scale_disable_and_hotswap_without_reallocating()
    {
        using var pinned = new LoraPipelineHarness(textEncoders: false);
        using var normal = new LoraPipelineHarness(textEncoders: false);
        void Both(Action<LoraPipelineHarness> change)
        {
            change(pinned);
            change(normal);
        }
        void Check(string step, string golden, double? scale = null)
        {
            using var actual = pinned.RunUnet(scale);
            using var reference = normal.RunUnet(scale);
            using var expected = GoldenSet.Reference.Tensor(golden);
            var g = TensorAssert.Close(actual, expected, $"{step} vs {golden}");
            var n = TensorAssert.Close(actual, reference, $"{step} vs never pinned", VsNormal);
            _output.WriteLine($"{step}: vs {golden} {g.Relative:E2}; vs never pinned {n.Relative:E2}");
        }

        Both(p => p.Manager.EnableLoraHotswap(8));
        Both(p => p.Load("lora_a", "a"));
        Both(p => p.Load("lora_b", "b"));
        Both(p => p.Manager.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 }));
        using var pin = pinned.Manager.PinForGraphs();
        Assert.Equal(new[] { "unet" }, pin.Components);
        Assert.Equal(new[] { "a", "b" }, pinned.UnetComponent.GraphPinnedAdapters);
        var pointers = Pointers(pinned.UnetComponent);

        Check("a + b (0.7, 0.8)", "unet/ab_0.7_0.8");
        Both(p => p.Manager.SetAdapters(new[] { "a" }));
        Check("only a (b pinned at scale 0)", "unet/a");
        Check("runtime scale 0.5 (cross_attention_kwargs)", "unet/a_cross_attention_scale_0.5", scale: 0.5);
        Both(p => p.Manager.DisableLora());
        Check("disabled", "unet/disabled");
        Both(p => p.Manager.EnableLora());
        Check("enabled again", "unet/a");
        Both(p => p.Load("lora_c", "a", hotswap: true));
        Check("after hotswap of lora_c into a", "unet/hotswap_c_into_a");
        Assert.Equal(pointers, Pointers(pinned.UnetComponent));
        Assert.True(pin.IsActive);
    }

    public static IEnumerable<object[]> PipelineLevelChanges() => new[]
    {
        new object[] { "SetAdapters with b", (Action<LoraAdapterManager>)(m => m.SetAdapters(new[] { "a", "b" }, new[] { 0.5, 0.5 })) },
        new object[] { "load lora_c", (Action<LoraAdapterManager>)(m => m.LoadLoraWeights(LoraPipelineHarness.LoraPath("lora_c"), "c")) },
        new object[] { "fuse", (Action<LoraAdapterManager>)(m => m.FuseLora()) },
        new object[] { "delete a", (Action<LoraAdapterManager>)(m => m.DeleteAdapters(new[] { "a" })) },
        new object[] { "unload", (Action<LoraAdapterManager>)(m => m.UnloadLoraWeights()) },
        new object[] { "materialized mode", (Action<LoraAdapterManager>)(m => m.ForwardMode = LoraForwardMode.Materialized) },
    };

    /// <summary>A pipeline-level change that a UNet pin refuses changes no component: the text encoders are checked first too.</summary>
    [Theory]
    [MemberData(nameof(PipelineLevelChanges))]
    public void A_pipeline_level_change_refused_by_the_unet_pin_changes_no_component(string what, Action<LoraAdapterManager> change)
    {
        using var p = new LoraPipelineHarness();
        p.Load("lora_a", "a");
        p.Load("lora_b", "b");
        p.Manager.SetAdapters(new[] { "a" });
        using var pin = p.Manager.PinForGraphs();
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() => change(p.Manager));
        Assert.Equal(LoraErrorKind.GraphPinned, e.Kind);
        Assert.Equal("unet", e.Component);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        using (var actual = p.RunUnet())
        using (var expected = GoldenSet.Reference.Tensor("unet/a"))
            TensorAssert.Close(actual, expected, $"after the refused {what}");
        _output.WriteLine($"{what}: {e.Message}");
    }

    private static Dictionary<string, IntPtr> Pointers(LoraComponent unet)
    {
        var result = Adapters(unet).ToDictionary(kv => kv.Key, kv => kv.Value);
        int i = 0;
        foreach (var buffer in unet.GraphState!.Buffers) result["scales" + i++] = buffer.Values.storage<float>().data_ptr();
        foreach (var layer in unet.GraphState.Layers)
        {
            if (layer.GraphPlan is not { Kind: GraphPlanKind.LowRank } plan) continue;
            result[layer.ModulePath + ".stackedA"] = plan.A.storage<float>().data_ptr();
            result[layer.ModulePath + ".stackedB"] = plan.B.storage<float>().data_ptr();
        }
        return result;
    }

    private static IEnumerable<KeyValuePair<string, IntPtr>> Adapters(LoraComponent unet) =>
        ExceptionLoraParityTests.DataPointers(unet).SelectMany(kv => new[]
        {
            new KeyValuePair<string, IntPtr>(kv.Key + ".A", kv.Value.Down),
            new KeyValuePair<string, IntPtr>(kv.Key + ".B", kv.Value.Up),
        });
}
