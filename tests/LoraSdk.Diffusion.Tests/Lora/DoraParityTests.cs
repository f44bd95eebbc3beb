using System;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using LoraSdk.Layers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// PEFT DoRA through the engine against diffusers + PEFT (tests/fixtures-dora): a PEFT DoRA file on the tiny SDXL UNet,
/// loaded, scaled, weighted, fused with <c>lora_scale</c> 0.7, unfused, deleted, saved and loaded again. Tolerance
/// 1e-4 relative (max |Δ| / max |golden|), as every UNet parity test.
/// </summary>
public sealed class DoraParityTests
{
    private const string File = "lora_dora_pub.safetensors";
    private const string ToQ = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
    private readonly ITestOutputHelper _output;

    public DoraParityTests(ITestOutputHelper output) => _output = output;

    private static string Path => System.IO.Path.Combine(RepoPaths.FixturesDora, File);

    private void AssertUnet(LoraPipelineHarness p, string key, double? scale = null)
    {
        using var actual = p.RunUnet(scale);
        using var expected = GoldenSet.Dora.Tensor(key);
        _output.WriteLine($"{key}: {TensorAssert.Close(actual, expected, key)}");
    }

    [Fact]
    public void LoadsEveryModuleAsDoraWithPeftsRankAndScaling()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Manager.LoadLoraWeights(RepoPaths.FixturesDora, "dora", weightName: File);
        var injected = GoldenSet.Dora.Node("injected_modules");
        var weights = p.UnetComponent.GetAdapterWeights("dora");
        Assert.Equal(injected.Properties.Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal), weights.Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (module, w) in weights)
        {
            var expected = injected[module]!;
            var dora = Assert.IsType<DoraWeights>(w);
            Assert.Equal(LoraVariants.PeftDora, dora.Variant);
            Assert.Equal(expected["r"]!.AsInt64(), dora.ConfiguredRank);
            Assert.Equal(expected["scaling"]!.AsDouble(), dora.Scaling);
            Assert.Equal(expected["magnitude_shape"]!.Items.Select(i => i.AsInt64()).ToArray(), dora.Magnitude.shape);
        }
        Assert.True(p.UnetComponent.GetAdapterConfig("dora").UseDora);
        AssertUnet(p, "unet/file_lora_dora_pub");
        AssertUnet(p, "unet/file_lora_dora_pub_cross_attention_scale_0.5", 0.5);
        AssertUnet(p, "unet/file_lora_dora_pub"); // the runtime scale lasted one call
    }

    [Fact]
    public void SetAdaptersFuseUnfuseAndDeleteMatchDiffusers()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        using var before = p.UnetComponent.GetLayer(ToQ)!.Weight.detach().clone();
        p.Manager.LoadLoraWeights(RepoPaths.FixturesDora, "dora", weightName: File);

        p.Manager.SetAdapters(new[] { "dora" }, new[] { 0.5 });
        AssertUnet(p, "unet/dora_pub_set_adapters_0.5");

        p.Manager.SetAdapters(new[] { "dora" }, new[] { 1.0 });
        p.Manager.FuseLora(new[] { "dora" }, loraScale: 0.7);
        AssertUnet(p, "unet/dora_pub_fused_0.7");
        using (var fused = GoldenSet.Dora.Tensor($"weights/fused_dora_0.7/{ToQ}.weight"))
            _output.WriteLine($"fused weight: {TensorAssert.Close(p.UnetComponent.GetLayer(ToQ)!.Weight, fused, "fused weight")}");

        // diffusers keeps the adapter's scaling multiplied by lora_scale after unfuse_lora, and so do we (PEFT's rule);
        // our unfuse restores the original weight bit for bit where diffusers subtracts a recomputed delta.
        p.Manager.UnfuseLora();
        TensorAssert.Equal(p.UnetComponent.GetLayer(ToQ)!.Weight, before, "weight after unfuse");
        AssertUnet(p, "unet/dora_pub_after_unfuse");

        p.Manager.DeleteAdapters(new[] { "dora" });
        AssertUnet(p, "unet/dora_pub_after_delete");
    }

    [Fact]
    public void MaterializedModeFoldsDoraLikeTheForwardPass()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Manager.LoadLoraWeights(RepoPaths.FixturesDora, "dora", weightName: File);
        p.Manager.ForwardMode = LoraForwardMode.Materialized;
        AssertUnet(p, "unet/file_lora_dora_pub");
        p.Manager.SetAdapters(new[] { "dora" }, new[] { 0.5 });
        AssertUnet(p, "unet/dora_pub_set_adapters_0.5");
    }

    [Fact]
    public void SavedDoraFileLoadsBackToTheSameOutputAndKeepsItsMetadata()
    {
        using var temp = new TempFolder();
        string saved;
        using (var p = new LoraPipelineHarness(textEncoders: false))
        {
            p.Manager.LoadLoraWeights(RepoPaths.FixturesDora, "dora", weightName: File);
            saved = p.Manager.SaveLoraWeights(temp.Path, "dora");
        }
        using (var original = SafetensorsFile.Open(Path))
        using (var file = SafetensorsFile.Open(saved))
        {
            Assert.Equal(original.Keys.OrderBy(k => k, StringComparer.Ordinal), file.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var key in original.Keys)
            {
                using var a = original.Load(key);
                using var b = file.Load(key);
                TensorAssert.Equal(b, a, key);
            }
            var config = LoraAdapterConfig.FromSafetensorsMetadata(file.Header.Metadata, new System.Collections.Generic.List<string>())[LoraComponents.Unet];
            Assert.True(config.UseDora);
        }
        using var q = new LoraPipelineHarness(textEncoders: false);
        q.Manager.LoadLoraWeights(saved, "dora");
        AssertUnet(q, "unet/file_lora_dora_pub");
    }

    [Fact]
    public void DoraIsRefusedWhereOnlyPlainLoraIsSupported()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Manager.LoadLoraWeights(RepoPaths.FixturesDora, "dora", weightName: File);
        p.Load("lora_d", "d");
        var before = p.Checksums();
        var merge = Assert.Throws<LoraException>(() => p.Manager.AddWeightedAdapter(new[] { "dora", "d" }, new[] { 1.0, 1.0 }, "m",
            new LoraMergeOptions { CombinationType = CombinationType.Cat }));
        Assert.Equal(LoraErrorKind.UnsupportedVariant, merge.Kind);
        Assert.Contains("adapter 'dora' is dora", merge.Message);
        ParameterChecksums.AssertEqual(before, p.Checksums());
    }
}
