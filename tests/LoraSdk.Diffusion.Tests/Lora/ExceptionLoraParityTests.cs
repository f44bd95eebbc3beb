using LoraSdk.Layers;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// The error paths of <c>goldens.json → exceptions</c>: diffusers' exact message and Python exception type, every
/// parameter bit-identical after the failure (checksums), and the UNet output after the failure against
/// <c>unet/after_exception/*</c> (≤ 1e-4 relative). Where the engine deliberately differs (a failed hotswap keeps the
/// old adapter; larger-rank hotswap without padding is refused instead of reallocating) the test says so.
/// </summary>
public sealed class ExceptionLoraParityTests
{
    private readonly ITestOutputHelper _output;

    public ExceptionLoraParityTests(ITestOutputHelper output) => _output = output;

    private static JsonValue Golden(string name) => GoldenSet.Reference.Node("exceptions", name);

    private static string ExpectedMessage(string name) => Golden(name)["raised"]!["message"]!.AsString();

    private static string ExpectedType(string name) => Golden(name)["raised"]!["type"]!.AsString().Replace("builtins.", "");

    /// <summary>Runs <paramref name="failing"/> after the golden setup; checks message, type, checksums, state and output.</summary>
    private void AssertFailure(string name, Action<LoraPipelineHarness> setup, Action<LoraPipelineHarness> failing, LoraErrorKind kind,
        string? afterOutputKey = null, bool stateAsGolden = true)
    {
        using var p = new LoraPipelineHarness();
        setup(p);
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() => failing(p));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(ExpectedMessage(name), e.Message);
        Assert.Equal(ExpectedType(name), e.PythonType);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        if (stateAsGolden) LoraStateAssert.Matches(p.Manager, Golden(name)["adapter_state_after"]!);
        string key = afterOutputKey ?? Golden(name)["output_key_after"]!.AsString();
        _output.WriteLine($"{name}: {e.Message.Substring(0, Math.Min(120, e.Message.Length))} | after vs {key}: {p.AssertUnet(key)}");
    }

    [Fact]
    public void SetAdaptersUnknownName() => AssertFailure("set_adapters_unknown_name",
        p => p.Load("lora_a", "a"), p => p.Manager.SetAdapters(new[] { "a", "nope" }, (IReadOnlyList<double>?)null), LoraErrorKind.UnknownAdapter);

    [Fact]
    public void SetAdaptersUnknownNameSingle() => AssertFailure("set_adapters_unknown_name_single",
        p => p.Load("lora_a", "a"), p => p.Manager.SetAdapters("nope"), LoraErrorKind.UnknownAdapter);

    [Fact]
    public void HotswapTextEncoderPart() => AssertFailure("hotswap_text_encoder_part",
        p => p.Load("lora_a", "a"), p => p.Load("lora_a", "a", hotswap: true), LoraErrorKind.HotswapTextEncoder);

    [Fact]
    public void HotswapUnknownAdapterName() => AssertFailure("hotswap_unknown_adapter_name",
        p => p.Load("lora_a", "a"), p => p.Load("lora_c", "zzz", hotswap: true), LoraErrorKind.HotswapUnknownAdapter);

    [Fact]
    public void LoadDuplicateAdapterName() => AssertFailure("load_duplicate_adapter_name",
        p => p.Load("lora_a", "a"), p => p.Load("lora_d", "a"), LoraErrorKind.DuplicateAdapterName);

    [Fact]
    public void EnableLoraHotswapAfterLoad() => AssertFailure("enable_lora_hotswap_after_load",
        p => p.Load("lora_a", "a"), p => p.Manager.EnableLoraHotswap(8), LoraErrorKind.HotswapAfterLoad);

    [Fact]
    public void BlockScalesWrongLength() => AssertFailure("block_scales_wrong_length",
        p => p.Load("lora_a", "a"), p => p.Manager.SetAdapters("a", AdapterWeight.Parse("""{"unet": {"up": {"block_0": [0.1, 0.2]}}}""")),
        LoraErrorKind.BlockScaleLength);

    [Fact]
    public void SetAdaptersWeightsLengthMismatch() => AssertFailure("set_adapters_weights_length_mismatch",
        p => p.Load("lora_a", "a"), p => p.Manager.SetAdapters(new[] { "a" }, new[] { 0.5, 0.5 }), LoraErrorKind.WeightsLengthMismatch);

    /// <summary>
    /// Same message as diffusers; unlike diffusers (which deletes adapter "a" from the UNet), the UNet keeps "a" fully
    /// working, so the output after the failure equals <c>unet/a</c> and every checksum is unchanged.
    /// </summary>
    [Theory]
    [InlineData("hotswap_b_into_a_targets_not_subset", false)]
    [InlineData("hotswap_b_into_a_with_enable_lora_hotswap", true)]
    public void FailedHotswapLeavesThePreviousAdapterWorking(string name, bool enable)
    {
        AssertFailure(name, p =>
        {
            if (enable) p.Manager.EnableLoraHotswap(8);
            p.Load("lora_a", "a");
        }, p => p.Load("lora_b", "a", hotswap: true), LoraErrorKind.HotswapUnexpectedKeys, afterOutputKey: "unet/a", stateAsGolden: false);
        using var p2 = new LoraPipelineHarness();
        p2.Load("lora_a", "a");
        Assert.Throws<LoraException>(() => p2.Load("lora_b", "a", hotswap: true));
        LoraStateAssert.Matches(p2.Manager, GoldenSet.Reference.Node("cases", "a", "adapter_state_after"));
    }

    /// <summary>
    /// diffusers: no exception, r=2 is zero-padded into the r=4 slot; output equals <c>file_lora_c</c>. The engine swaps
    /// in place: every LoRA tensor keeps its storage (data pointers unchanged).
    /// </summary>
    [Fact]
    public void HotswapSmallerRankWithoutEnableLoraHotswap()
    {
        const string name = "hotswap_smaller_rank_without_enable_lora_hotswap";
        using var p = new LoraPipelineHarness();
        p.Load("lora_a", "a");
        var before = DataPointers(p.UnetComponent);
        p.Load("lora_c", "a", hotswap: true);
        Assert.Equal(before, DataPointers(p.UnetComponent));
        LoraStateAssert.Matches(p.Manager, Golden(name)["adapter_state_after"]!);
        _output.WriteLine($"{name}: {p.AssertUnet(Golden(name)["output_key"]!.AsString())}");
        _output.WriteLine($"vs unet/file_lora_c: {p.AssertUnet("unet/file_lora_c")}");
    }

    /// <summary>
    /// diffusers swaps a rank-4 adapter into a rank-2 slot by replacing the tensors (a reallocation). The engine never
    /// reallocates, so it refuses with a message that says how (enable_lora_hotswap with the largest rank) and leaves
    /// adapter "c" bit-identical and working (output = <c>file_lora_c</c>).
    /// </summary>
    [Fact]
    public void HotswapLargerRankWithoutEnableIsRefusedAndKeepsTheOldAdapter()
    {
        using var p = new LoraPipelineHarness();
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "lora_a_unet_q_v.safetensors");
        using (var source = SafetensorsFile.Open(LoraPipelineHarness.LoraPath("lora_a")))
        {
            var tensors = source.Keys.Where(k => k.StartsWith("unet.", StringComparison.Ordinal) && (k.Contains(".to_q.") || k.Contains(".to_v.")))
                .Select(k => new KeyValuePair<string, Tensor>(k, source.Load(k))).ToList();
            SafetensorsWriter.Save(file, tensors);
            foreach (var t in tensors) t.Value.Dispose();
        }
        p.Load("lora_c", "c");
        var before = p.Checksums();
        var e = Assert.Throws<LoraException>(() => p.Manager.LoadLoraWeights(file, "c", hotswap: true));
        Assert.Equal(LoraErrorKind.HotswapRankTooLarge, e.Kind);
        Assert.Contains("enable_lora_hotswap", e.Message);
        ParameterChecksums.AssertEqual(before, p.Checksums());
        _output.WriteLine($"{e.Message}\nafter vs unet/file_lora_c: {p.AssertUnet("unet/file_lora_c")}");
    }

    /// <summary>With padding enabled first, the same larger-rank swap succeeds in place (diffusers' recorded outcome: scaling 1.0).</summary>
    [Fact]
    public void HotswapLargerRankAfterEnableLoraHotswapMatchesDiffusers()
    {
        const string name = "hotswap_larger_rank_without_enable_lora_hotswap";
        using var p = new LoraPipelineHarness();
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "lora_a_unet_q_v.safetensors");
        using (var source = SafetensorsFile.Open(LoraPipelineHarness.LoraPath("lora_a")))
        {
            var tensors = source.Keys.Where(k => k.StartsWith("unet.", StringComparison.Ordinal) && (k.Contains(".to_q.") || k.Contains(".to_v.")))
                .Select(k => new KeyValuePair<string, Tensor>(k, source.Load(k))).ToList();
            SafetensorsWriter.Save(file, tensors);
            foreach (var t in tensors) t.Value.Dispose();
        }
        p.Manager.EnableLoraHotswap(4);
        p.Load("lora_c", "c");
        var before = DataPointers(p.UnetComponent);
        p.Manager.LoadLoraWeights(file, "c", hotswap: true);
        Assert.Equal(before, DataPointers(p.UnetComponent));
        var w = p.UnetComponent.GetLayer("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q")!.GetAdapter("c");
        Assert.Equal(Golden(name)["scaling_after"]!.AsDouble(), w.Scaling);
        Assert.Equal(Golden(name)["lora_A_shape_after"]!.Items.Select(i => i.AsInt64()).ToArray(), ((LowRankWeights)w).A.shape);
        _output.WriteLine($"{name}: {p.AssertUnet(Golden(name)["output_key"]!.AsString())}");
    }

    internal static Dictionary<string, (IntPtr Down, IntPtr Up)> DataPointers(LoraComponent component)
    {
        var result = new Dictionary<string, (IntPtr, IntPtr)>();
        foreach (var adapter in component.ListAdapters())
            foreach (var (path, w) in component.GetAdapterWeights(adapter))
                result[adapter + "/" + path] = (Pointer(((LowRankWeights)w).A), Pointer(((LowRankWeights)w).B));
        return result;
    }

    /// <summary>The data pointer of a float32 tensor's storage.</summary>
    internal static IntPtr Pointer(Tensor t)
    {
        Assert.Equal(ScalarType.Float32, t.dtype);
        return t.storage<float>().data_ptr();
    }
}
