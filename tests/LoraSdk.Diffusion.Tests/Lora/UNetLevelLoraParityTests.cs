using System;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The UNet-level API (<c>unet.load_lora_adapter(prefix=…)</c>, <c>save_lora_adapter</c>) and pipeline-level
/// <c>save_lora_weights</c>: outputs against the goldens, files against the diffusers-written fixtures (same keys,
/// bit-identical tensors, identical <c>lora_adapter_metadata</c> JSON).
/// </summary>
public sealed class UNetLevelLoraParityTests
{
    private readonly ITestOutputHelper _output;

    public UNetLevelLoraParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void LoadLoraAdapterWithPrefixUnet()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        var result = p.UnetComponent.LoadLoraAdapter(LoraPipelineHarness.LoraPath("lora_a"), prefix: "unet", adapterName: "a", options: LoraPipelineHarness.LoadOptions);
        Assert.Equal(96, result.ModuleCounts["unet"]);
        Assert.Equal(new[] { "text_encoder", "text_encoder_2" }, result.SkippedComponents);
        _output.WriteLine($"unet_load_lora_adapter_prefix_unet: {p.AssertUnet("unet/unet_load_lora_adapter_prefix_unet")}");
        LoraStateAssert.Matches(p.Manager, GoldenSet.Reference.Node("cases", "unet_load_lora_adapter_prefix_unet", "adapter_state_after"));
    }

    [Fact]
    public void LoadLoraAdapterWithoutPrefixFromTheSavedFile()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.UnetComponent.LoadLoraAdapter(Path.Combine(RepoPaths.Loras, "lora_a_unet_save_lora_adapter.safetensors"), prefix: null, adapterName: "a",
            options: LoraPipelineHarness.LoadOptions);
        _output.WriteLine($"roundtrip: {p.AssertUnet("unet/unet_load_lora_adapter_prefix_none_roundtrip")}");
        LoraStateAssert.Matches(p.Manager, GoldenSet.Reference.Node("cases", "unet_load_lora_adapter_prefix_none_roundtrip", "adapter_state_after"));
    }

    /// <summary>save_lora_adapter writes the same keys, bytes and metadata JSON as diffusers' own file.</summary>
    [Fact]
    public void SaveLoraAdapterWritesWhatDiffusersWrites()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.UnetComponent.LoadLoraAdapter(LoraPipelineHarness.LoraPath("lora_a"), prefix: "unet", adapterName: "a", options: LoraPipelineHarness.LoadOptions);
        using var temp = new TempFolder();
        string path = p.UnetComponent.SaveLoraAdapter(temp.Path, "a", weightName: "saved.safetensors");
        AssertSameFile(Path.Combine(RepoPaths.Loras, "lora_a_unet_save_lora_adapter.safetensors"), path);

        using var p2 = new LoraPipelineHarness(textEncoders: false);
        p2.UnetComponent.LoadLoraAdapter(path, prefix: null, adapterName: "a", options: LoraPipelineHarness.LoadOptions);
        using var expected = p.RunUnet();
        using var actual = p2.RunUnet();
        TensorAssert.Equal(actual, expected, "save → load round trip");
    }

    /// <summary>save_lora_weights (pipeline) reproduces lora_a.safetensors: keys, tensors, metadata JSON.</summary>
    [Fact]
    public void SaveLoraWeightsReproducesTheFixtureFile()
    {
        using var p = new LoraPipelineHarness();
        p.Load("lora_a", "a");
        using var temp = new TempFolder();
        string path = p.Manager.SaveLoraWeights(temp.Path, "a", "pipe.safetensors");
        AssertSameFile(LoraPipelineHarness.LoraPath("lora_a"), path);
    }

    /// <summary>A fused, unloaded UNet saves as a plain state dict that loads back as a plain model with the fused output.</summary>
    [Fact]
    public void FusedModelSavesAndLoadsAsAPlainModel()
    {
        using var p = new LoraPipelineHarness(textEncoders: false);
        p.Load("lora_a", "a");
        using var lora = p.RunUnet();
        p.Manager.FuseLora(new[] { "a" });
        p.Manager.UnloadLoraWeights();
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(Path.Combine(RepoPaths.TinySdxl, "unet"), "unet");
        string weights = Path.Combine(folder, "diffusion_pytorch_model.safetensors");
        var state = p.Unet.state_dict();
        SafetensorsWriter.Save(weights, state);
        Assert.DoesNotContain(state.Keys, k => k.Contains("lora", StringComparison.Ordinal));
        using var plain = ComponentLoader.LoadUNet(folder);
        using var fused = LoraPipelineHarness.RunUnet(plain);
        _output.WriteLine($"plain fused model vs unfused LoRA output: {TensorAssert.Close(fused, lora, "fused plain model", 1e-5)}");
        using var expected = GoldenSet.Reference.Tensor("unet/file_lora_a");
        TensorAssert.Close(fused, expected, "fused plain model vs unet/file_lora_a");
    }

    [Fact]
    public void DefaultAdapterNamesFollowDiffusers()
    {
        using var p = new LoraPipelineHarness();
        Assert.Equal("default_0", p.Manager.LoadLoraWeights(LoraPipelineHarness.LoraPath("lora_b")));
        // diffusers names per component from the first LoRA layer: the UNet's already holds one adapter, the text encoders none.
        var result = p.Manager.LoadLoraWeightsWithResult(LoraPipelineHarness.LoraPath("lora_a"));
        Assert.Equal("default_1", result.AdapterNames["unet"]);
        Assert.Equal("default_0", result.AdapterNames["text_encoder"]);
        Assert.Equal("default_0", result.AdapterNames["text_encoder_2"]);
        Assert.Equal(new[] { "default_0", "default_1" }, p.Manager.GetListAdapters()["unet"]);
    }

    [Fact]
    public void PrefixLoadsOnlyThatComponent()
    {
        using var p = new LoraPipelineHarness();
        var result = p.Manager.LoadLoraWeightsWithResult(LoraPipelineHarness.LoraPath("lora_a"), "a", prefix: LoraComponents.TextEncoder);
        Assert.Equal(new[] { LoraComponents.TextEncoder }, result.ModuleCounts.Keys);
        Assert.Equal(new[] { LoraComponents.TextEncoder }, p.Manager.GetListAdapters().Keys);
        _output.WriteLine($"UNet untouched: {p.AssertUnet("unet/base")}");
    }

    [Fact]
    public void PerComponentWeightsGoToTheirComponents()
    {
        using var p = new LoraPipelineHarness();
        p.Load("lora_a", "a");
        p.Manager.SetAdapters("a", AdapterWeight.Parse("""{"unet": 0.5, "text_encoder": 0.3, "not_a_component": 7}"""));
        const string q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
        const string te = "encoder.layers.0.self_attn.q_proj";
        Assert.Equal(0.5 * 8 / 4, p.UnetComponent.GetLayer(q)!.GetAdapter("a").Scaling);
        Assert.Equal(0.3 * 4 / 4, p.Manager[LoraComponents.TextEncoder].GetLayer(te)!.GetAdapter("a").Scaling);
        Assert.Equal(1.0, p.Manager[LoraComponents.TextEncoder2].GetLayer(te)!.GetAdapter("a").Scaling); // left out → 1.0
        p.Manager.SetAdapters("a", AdapterWeight.Parse("""{"down": 0.1}""")); // not a component: dropped like diffusers → 1.0 everywhere
        Assert.Equal(2.0, p.UnetComponent.GetLayer(q)!.GetAdapter("a").Scaling);
    }

    private static void AssertSameFile(string expectedPath, string actualPath)
    {
        using var expected = SafetensorsFile.Open(expectedPath);
        using var actual = SafetensorsFile.Open(actualPath);
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var key in expected.Keys)
        {
            using var e = expected.Load(key);
            using var a = actual.Load(key);
            TensorAssert.Equal(a, e, key);
        }
        Assert.Equal(expected.Header.Metadata["format"], actual.Header.Metadata["format"]);
        Assert.Equal(expected.Header.Metadata["lora_adapter_metadata"], actual.Header.Metadata["lora_adapter_metadata"]);
    }
}
