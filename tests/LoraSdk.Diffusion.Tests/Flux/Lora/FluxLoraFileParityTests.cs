using System;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Layers;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// One Flux LoRA file per fresh pipeline (<c>cases.file_flux_lora_*</c>): the transformer output ≤ 1e-4 relative to
/// diffusers (max |a−b| / max |b|, worst index reported), the adapter state diffusers reports afterwards, and every
/// injected module (<c>injected_modules</c>: module set, r, lora_alpha, scaling exactly, lora_A / lora_B shapes) — for
/// the PEFT files and for the kohya files diffusers converts (fused q/k/v split, alpha folded, non-block layers dropped).
/// </summary>
public sealed class FluxLoraFileParityTests
{
    private readonly ITestOutputHelper _output;

    public FluxLoraFileParityTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("flux_lora_a")]
    [InlineData("flux_lora_b")]
    [InlineData("flux_lora_a_kohya")]
    [InlineData("flux_lora_a_kohya_subset")]
    [InlineData("flux_lora_kohya_extras")]
    public void FileMatchesDiffusers(string tag)
    {
        using var p = new FluxLoraHarness();
        Assert.Equal(tag, p.Load(tag, tag));
        _output.WriteLine($"transformer/file_{tag}: {p.Assert("transformer/file_" + tag)}");
        FluxLoraStateAssert.Matches(p.Manager, GoldenSet.Flux.Node("cases", "file_" + tag, "adapter_state_after"));
        AssertInjectedModules(p, tag, GoldenSet.Flux.Node("injected_modules", tag));
    }

    [Fact]
    public void RectangularInputs()
    {
        using var p = new FluxLoraHarness();
        p.Load("flux_lora_a", "flux_lora_a");
        _output.WriteLine($"file_flux_lora_a_rect: {p.Assert("transformer/file_flux_lora_a_rect", rect: true)}");
        _output.WriteLine($"base_rect (disabled): {Disabled(p, () => p.Assert("transformer/base_rect", rect: true))}");
    }

    [Fact]
    public void JointAttentionScaleHalvesTheScalingsForOneCallOnly()
    {
        using var p = new FluxLoraHarness();
        p.Load("flux_lora_a", "flux_lora_a");
        var before = p.Checksums();
        _output.WriteLine($"scale 0.5: {p.Assert("transformer/file_flux_lora_a_joint_attention_scale_0.5", scale: 0.5)}");
        ParameterChecksums.AssertEqual(before, p.Checksums());
        _output.WriteLine($"after the scaled call: {p.Assert("transformer/file_flux_lora_a_after_scaled_call")}");
        using var a = GoldenSet.Flux.Tensor("transformer/file_flux_lora_a");
        using var after = GoldenSet.Flux.Tensor("transformer/file_flux_lora_a_after_scaled_call");
        TensorAssert.Equal(after, a, "diffusers: the scale is undone after the call");
    }

    [Fact]
    public void BaseOutputsWithoutLoraAndWithScaleWithoutLora()
    {
        using var p = new FluxLoraHarness();
        _output.WriteLine($"base: {p.Assert("transformer/base")}");
        _output.WriteLine($"base scale 0.5: {p.Assert("transformer/base_joint_attention_scale_0.5", scale: 0.5)}");
        FluxLoraStateAssert.Matches(p.Manager, GoldenSet.Flux.Node("cases", "base", "adapter_state_after"));
    }

    /// <summary>
    /// <c>kohya_equivalence</c>: diffusers' conversion of the kohya file equals flux_lora_a on the modules it covers, so
    /// the kohya file, the PEFT subset and diffusers' three outputs agree; the engine's loaded tensors equal
    /// diffusers' converted tensors (<c>converted/flux_lora_a_kohya/*</c>) bit for bit.
    /// </summary>
    [Fact]
    public void KohyaFileGivesTheModulesTensorsAndOutputsDiffusersGives()
    {
        using var kohya = new FluxLoraHarness();
        kohya.Load("flux_lora_a_kohya", "k");
        using var subset = new FluxLoraHarness();
        subset.Load("flux_lora_a_kohya_subset", "s");
        var k = kohya.Transformer;
        var s = subset.Transformer;
        Assert.Equal(s.GetAdapterModulePaths("s"), k.GetAdapterModulePaths("k"));
        int compared = 0;
        foreach (var (path, w) in k.GetAdapterWeights("k"))
        {
            foreach (var (role, tensor) in new[] { ("lora_A", ((LowRankWeights)w).A), ("lora_B", ((LowRankWeights)w).B) })
            {
                string key = $"converted/flux_lora_a_kohya/transformer.{path}.{role}.weight";
                using var expected = GoldenSet.Flux.Tensor(key);
                TensorAssert.Equal(tensor, expected, key);
                compared++;
            }
            Assert.Equal(1.0, w.Scaling);
        }
        Assert.Equal(52, compared);
        using var fromKohya = kohya.Run();
        using var fromSubset = subset.Run();
        TensorAssert.Equal(fromKohya, fromSubset, "kohya file vs its PEFT equivalent (diffusers: bitwise equal)");
        _output.WriteLine($"kohya vs transformer/file_flux_lora_a_kohya_subset: {kohya.Assert("transformer/file_flux_lora_a_kohya_subset")}");
    }

    /// <summary>The converted tensors of the extras file that diffusers keeps (the block modulations) equal <c>converted/flux_lora_kohya_extras/*</c>.</summary>
    [Fact]
    public void KohyaExtrasLoadOnlyTheModulationsWithFoldedAlpha()
    {
        using var p = new FluxLoraHarness();
        var result = p.Manager.LoadLoraWeightsWithResult(FluxLoraHarness.LoraPath("flux_lora_kohya_extras"), "x");
        Assert.Equal(6, result.ModuleCounts[LoraComponents.Transformer]);
        Assert.Contains(result.Warnings, w => w.Contains("30 key(s) were not loaded because diffusers drops them", StringComparison.Ordinal));
        int compared = 0;
        foreach (var (path, w) in p.Transformer.GetAdapterWeights("x"))
        {
            foreach (var (role, tensor) in new[] { ("lora_A", ((LowRankWeights)w).A), ("lora_B", ((LowRankWeights)w).B) })
            {
                string key = $"converted/flux_lora_kohya_extras/transformer.{path}.{role}.weight";
                using var expected = GoldenSet.Flux.Tensor(key);
                TensorAssert.Equal(tensor, expected, key);
                compared++;
            }
        }
        Assert.Equal(12, compared);
    }

    internal static void AssertInjectedModules(FluxLoraHarness p, string adapter, JsonValue golden)
    {
        Assert.Equal(golden.Properties.Select(x => x.Key).OrderBy(k => k, StringComparer.Ordinal),
            p.Manager.GetListAdapters().Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (componentName, expected) in golden.Properties.Select(x => (x.Key, x.Value)))
        {
            var component = p.Manager[componentName];
            var modules = expected["modules"]!;
            Assert.Equal(modules.Properties.Select(x => x.Key).OrderBy(k => k, StringComparer.Ordinal),
                component.GetAdapterModulePaths(adapter).OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (path, m) in modules.Properties.Select(x => (x.Key, x.Value)))
            {
                var w = component.GetLayer(path)!.GetAdapter(adapter);
                string where = $"{adapter} {componentName}.{path}";
                Assert.Equal((int)m["r"]!.AsInt64(), w.ConfiguredRank);
                Assert.True(m["lora_alpha"]!.AsDouble() == w.Alpha, $"{where} lora_alpha {m["lora_alpha"]!.AsDouble()} vs {w.Alpha}");
                Assert.True(m["scaling"]!.AsDouble() == w.Scaling, $"{where} scaling {m["scaling"]!.AsDouble()} vs {w.Scaling}");
                Assert.Equal(m["lora_A_shape"]!.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)w).A.shape);
                Assert.Equal(m["lora_B_shape"]!.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)w).B.shape);
            }
            var peft = expected["peft_config"]!;
            var config = component.GetAdapterConfig(adapter);
            Assert.Equal((int)peft["r"]!.AsInt64(), config.R);
            Assert.Equal(peft["lora_alpha"]!.AsDouble(), config.LoraAlpha);
        }
    }

    private static TensorAssert.Comparison Disabled(FluxLoraHarness p, Func<TensorAssert.Comparison> run)
    {
        p.Pipe.DisableLora();
        try
        {
            return run();
        }
        finally
        {
            p.Pipe.EnableLora();
        }
    }
}
