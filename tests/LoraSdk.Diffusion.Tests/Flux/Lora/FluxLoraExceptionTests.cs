using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// <c>goldens.json → exceptions</c> through the FluxPipeline's LoRA API: diffusers' message (exactly, or an equivalent
/// typed one where diffusers fails with a bare assertion), every parameter and LoRA tensor bit-identical afterwards,
/// the adapter state diffusers reports, and the transformer output after the failure against
/// <c>transformer/after_exception/*</c> (≤ 1e-4 relative). The two hotswap cases where the engine deliberately differs
/// (it refuses before changing anything) say so.
/// </summary>
public sealed class FluxLoraExceptionTests
{
    private readonly ITestOutputHelper _output;

    public FluxLoraExceptionTests(ITestOutputHelper output) => _output = output;

    private static JsonValue Golden(string name) => GoldenSet.Flux.Node("exceptions", name);

    private LoraException AssertFailure(string name, Action<FluxLoraHarness> setup, Action<FluxLoraHarness> failing, LoraErrorKind kind, bool exactMessage = true)
    {
        using var p = new FluxLoraHarness();
        setup(p);
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() => failing(p));
        Assert.Equal(kind, e.Kind);
        var raised = Golden(name)["raised"]!;
        if (exactMessage)
        {
            Assert.Equal(raised["message"]!.AsString(), e.DiffusersMessage);
            Assert.Equal(raised["type"]!.AsString().Replace("builtins.", ""), LoraSdk.Compatibility.DiffusersErrors.PythonType(e.Kind));
        }
        ParameterChecksums.AssertEqual(before, p.Checksums());
        FluxLoraStateAssert.Matches(p.Manager, Golden(name)["adapter_state_after"]!);
        string key = Golden(name)["output_key_after"]!.AsString();
        _output.WriteLine($"{name}: {e.Message} | after vs {key}: {p.Assert(key)}");
        return e;
    }

    private static void LoadA(FluxLoraHarness p) => p.Load("flux_lora_a", "a");

    [Fact]
    public void SetAdaptersUnknownName() => AssertFailure("set_adapters_unknown_name",
        LoadA, p => p.Pipe.SetAdapters(new[] { "a", "nope" }), LoraErrorKind.UnknownAdapter);

    [Fact]
    public void SetAdaptersWeightsLengthMismatch() => AssertFailure("set_adapters_weights_length_mismatch",
        LoadA, p => p.Pipe.SetAdapters(new[] { "a" }, new[] { 0.5, 0.5 }), LoraErrorKind.WeightsLengthMismatch);

    [Fact]
    public void LoadDuplicateAdapterName() => AssertFailure("load_duplicate_adapter_name",
        LoadA, p => p.Load("flux_lora_b", "a"), LoraErrorKind.DuplicateAdapterName);

    [Fact]
    public void HotswapUnknownAdapterName() => AssertFailure("hotswap_unknown_adapter_name",
        LoadA, p => p.Load("flux_lora_a_kohya_subset", "zzz", hotswap: true), LoraErrorKind.HotswapUnknownAdapter);

    [Fact]
    public void EnableLoraHotswapAfterLoad() => AssertFailure("enable_lora_hotswap_after_load",
        LoadA, p => p.Pipe.EnableLoraHotswap(8), LoraErrorKind.HotswapAfterLoad);

    /// <summary>
    /// diffusers splits a single-block linear1 lora_up by FLUX.1's sizes and fails with an empty AssertionError on the
    /// tiny model (224 rows). The engine refuses the same file before changing anything, with a typed error that names
    /// the layer, the rows and the fixed sizes.
    /// </summary>
    [Fact]
    public void KohyaSingleBlockLinear1OnTinyDims()
    {
        var e = AssertFailure("kohya_single_block_linear1_on_tiny_dims", _ => { }, p => p.Load("flux_lora_a_kohya_full", "k"),
            LoraErrorKind.ShapeMismatch, exactMessage: false);
        Assert.Equal("builtins.AssertionError", Golden("kohya_single_block_linear1_on_tiny_dims")["raised"]!["type"]!.AsString());
        Assert.Contains("lora_unet_single_blocks_0_linear1", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3072, 3072, 3072, 12288]", e.Message, StringComparison.Ordinal);
        Assert.Contains("224 rows", e.Message, StringComparison.Ordinal);
        Assert.Equal(LoraComponents.Transformer, e.Component);
        Assert.IsAssignableFrom<LoraSdkException>(e);
    }

    /// <summary>diffusers is given a dict without 'lora' keys; the engine reads files, so the same state dict is written to one.</summary>
    [Fact]
    public void InvalidCheckpointWithoutLoraKeys()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "no_lora.safetensors");
        using (var weight = zeros(32, 16))
            SafetensorsWriter.Save(file, new[] { new KeyValuePair<string, Tensor>("transformer.x_embedder.weight", weight) });
        AssertFailure("invalid_checkpoint_without_lora_keys", _ => { }, p => p.Pipe.LoadLoraWeights(file, "x"), LoraErrorKind.NothingToLoad);
    }

    /// <summary>
    /// diffusers swaps the transformer part of flux_lora_b into "a" and then raises for the text-encoder part (output =
    /// file_flux_lora_b). The engine raises the same message before anything changes: "a" stays flux_lora_a, bit for bit.
    /// </summary>
    [Fact]
    public void PipelineLevelHotswapWithTextEncoderPartIsRefusedBeforeAnythingChanges()
    {
        using var p = new FluxLoraHarness();
        p.Pipe.EnableLoraHotswap(8);
        p.Load("flux_lora_a", "a");
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() => p.Load("flux_lora_b", "a", hotswap: true));
        var golden = GoldenSet.Flux.Node("cases", "hotswap_b_into_a_pipeline_level");
        Assert.Equal(golden["raised"]!["message"]!.AsString(), e.DiffusersMessage);
        Assert.Equal(LoraErrorKind.HotswapTextEncoder, e.Kind);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        FluxLoraStateAssert.Matches(p.Manager, golden["adapter_state_after"]!);
        _output.WriteLine($"after vs transformer/hotswap_a_padded_rank8 (a unchanged): {p.Assert("transformer/hotswap_a_padded_rank8")}");
        // The transformer part alone swaps exactly as diffusers' does.
        p.Transformer.LoadLoraAdapter(FluxLoraHarness.LoraPath("flux_lora_b"), LoraComponents.Transformer, "a", hotswap: true, p.Manager.LoadOptions);
        _output.WriteLine($"transformer-level swap vs {golden["output_key_after"]!.AsString()}: {p.Assert(golden["output_key_after"]!.AsString())}");
    }

    /// <summary>
    /// diffusers swaps the rank-8 flux_lora_b into the rank-4 "a" by reallocating its tensors (output = file_flux_lora_b).
    /// The engine never reallocates: it refuses with a hint (enable_lora_hotswap with the largest rank) and keeps "a".
    /// </summary>
    [Fact]
    public void LargerRankHotswapWithoutEnableIsRefusedAndKeepsTheOldAdapter()
    {
        using var p = new FluxLoraHarness();
        p.Load("flux_lora_a", "a");
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() =>
            p.Transformer.LoadLoraAdapter(FluxLoraHarness.LoraPath("flux_lora_b"), LoraComponents.Transformer, "a", hotswap: true, p.Manager.LoadOptions));
        Assert.Equal(LoraErrorKind.HotswapRankTooLarge, e.Kind);
        Assert.Contains("EnableLoraHotswap", e.Message, StringComparison.Ordinal);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        Assert.True(GoldenSet.Flux.Node("cases", "hotswap_b_into_a_without_enable", "raised").IsNull);
        _output.WriteLine($"{e.Message}\nafter vs transformer/file_flux_lora_a: {p.Assert("transformer/file_flux_lora_a")}");
    }
}
