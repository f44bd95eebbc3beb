using System;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Layers;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// The rest of the FluxPipeline's LoRA API on the Flux fixtures: save in diffusers' Flux format and load back
/// (PEFT and kohya-converted adapters, transformer + CLIP parts), merges (<c>add_weighted_adapter</c>), hotswap of a
/// kohya file into a loaded adapter.
/// </summary>
public sealed class FluxLoraApiTests
{
    private readonly ITestOutputHelper _output;

    public FluxLoraApiTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// <c>save_lora_weights</c> writes <c>transformer.</c> / <c>text_encoder.</c> keys and <c>lora_adapter_metadata</c>
    /// with both components' configs; the saved file reads as PEFT and loads back to the same outputs.
    /// </summary>
    [Theory]
    [InlineData("flux_lora_b", "transformer/file_flux_lora_b", "text_encoder,transformer")]
    [InlineData("flux_lora_a_kohya", "transformer/file_flux_lora_a_kohya", "transformer")]
    public void SavedAdapterIsDiffusersFluxFormatAndLoadsBackTheSame(string tag, string golden, string components)
    {
        using var temp = new TempFolder();
        string saved;
        using (var p = new FluxLoraHarness())
        {
            p.Load(tag, "x");
            saved = p.Pipe.SaveLoraWeights(temp.Path, "x", "saved.safetensors");
        }
        var model = LoraFileModel.Read(saved);
        Assert.Equal(LoraKeyFormats.Peft, model.Format);
        Assert.Equal(components.Split(','), model.Components.Keys);
        Assert.All(model.Header.Tensors, t => Assert.True(t.Name.StartsWith("transformer.", StringComparison.Ordinal)
                                                          || t.Name.StartsWith("text_encoder.", StringComparison.Ordinal), t.Name));
        var metadata = JsonValue.Parse(model.Header.Metadata["lora_adapter_metadata"]);
        foreach (var c in components.Split(',')) Assert.NotNull(metadata[c + ".r"]);
        using var back = new FluxLoraHarness();
        back.Pipe.LoadLoraWeights(saved, "y");
        _output.WriteLine($"{tag} saved and loaded vs {golden}: {back.Assert(golden)}");
        Assert.All(back.Transformer.GetScalings(), s => Assert.Equal(tag == "flux_lora_b" ? 0.5 : 1.0, s.Value.Single().Value));
    }

    /// <summary>PEFT's cat merge keeps every delta exactly: a·0.7 ⊕ b·0.8 gives the transformer output of set_adapters([a, b], [0.7, 0.8]).</summary>
    [Fact]
    public void CatMergeOfAAndBEqualsTheirWeightedCombination()
    {
        using var p = new FluxLoraHarness();
        p.Load("flux_lora_a", "a");
        p.Load("flux_lora_b", "b");
        p.Pipe.AddWeightedAdapter(new[] { "a", "b" }, new[] { 0.7, 0.8 }, "ab", new LoraMergeOptions { CombinationType = CombinationType.Cat });
        p.Manager.SetAdapters("ab");
        Assert.Equal(12, p.Transformer.GetLayer("transformer_blocks.0.attn.to_q")!.GetAdapter("ab").ConfiguredRank);
        _output.WriteLine($"merged ab vs transformer/ab_0.7_0.8: {p.Assert("transformer/ab_0.7_0.8")}");
    }

    /// <summary>A kohya file hotswapped into an adapter loaded from its PEFT equivalent: in place, same output as loading it.</summary>
    [Fact]
    public void KohyaFileHotswapsIntoAPeftAdapterInPlace()
    {
        using var p = new FluxLoraHarness();
        p.Pipe.EnableLoraHotswap(8);
        p.Load("flux_lora_a_kohya_subset", "a");
        var pointers = p.Transformer.GetAdapterWeights("a").ToDictionary(kv => kv.Key, kv => ExceptionLoraParityTests.Pointer(((LowRankWeights)kv.Value).A));
        p.Load("flux_lora_a_kohya", "a", hotswap: true);
        Assert.Equal(pointers, p.Transformer.GetAdapterWeights("a").ToDictionary(kv => kv.Key, kv => ExceptionLoraParityTests.Pointer(((LowRankWeights)kv.Value).A)));
        _output.WriteLine($"kohya swapped in vs transformer/file_flux_lora_a_kohya: {p.Assert("transformer/file_flux_lora_a_kohya")}");
    }
}
