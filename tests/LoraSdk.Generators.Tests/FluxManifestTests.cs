using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// Typed Flux adapters through the real build step and the generator, on the Flux fixture LoRAs
/// (tests/fixtures-flux: PEFT and kohya files written by diffusers' tooling): a Flux base model from a transformer
/// <c>config.json</c> (<c>transformerConfig</c>) or <c>"architecture": "flux"</c>, the kohya file's split modules,
/// target-layer / rank / hotswap checks as for SDXL, and the base-model diagnostic (LSDK006) for an SDXL LoRA in a
/// Flux manifest and a Flux LoRA in an SDXL manifest, located at the entry's <c>file</c>.
/// </summary>
public sealed class FluxManifestTests : System.IDisposable
{
    private readonly TempFolder _temp = new TempFolder();
    private int _runs;

    public void Dispose() => _temp.Dispose();

    private static readonly string TinyFlux = RepoPaths.Combine("tests", "fixtures-flux", "tiny-flux");

    private static string FluxLora(string name) => JsonWriter.Quote(RepoPaths.Combine("tests", "fixtures-flux", "loras", name + ".safetensors"));

    private static string Config(string part) => JsonWriter.Quote(Path.Combine(TinyFlux, part, "config.json"));

    private static string TinyFluxBase => $$"""{ "name": "TinyFlux", "transformerConfig": {{Config("transformer")}}, "textEncoderConfig": {{Config("text_encoder")}} }""";

    private (GeneratorOutcome Outcome, string Manifest) Run(string baseModel, string adapters, string extra = "")
    {
        string folder = "run" + (_runs++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string manifest = _temp.Write(folder + "/adapters.manifest", $$"""
            {
              "namespace": "F",
              "baseModel": {{baseModel}},
              "adapters": [
            {{adapters}}
              ]{{extra}}
            }
            """);
        var (task, _) = BuildStep.Inspect(manifest, _temp.File(folder + "/obj"));
        return (GeneratorHarness.Run(BuildStep.AdditionalFiles(manifest, task)), manifest);
    }

    private static string Entry(string name, string file, string more = "") =>
        $$"""    { "name": "{{name}}", "file": {{file}}, "triggerWords": ["{{name.ToLowerInvariant()}}"]{{more}} }""";

    private static string Source(GeneratorOutcome outcome, string hintSuffix) =>
        outcome.Sources.Single(s => s.HintName.EndsWith(hintSuffix, System.StringComparison.Ordinal)).SourceText.ToString();

    [Fact]
    public void ManifestOverTheFluxFixtureLorasBuilds()
    {
        var (outcome, _) = Run(TinyFluxBase, string.Join(",\n",
                Entry("A", FluxLora("flux_lora_a")),
                Entry("B", FluxLora("flux_lora_b")),
                Entry("BTransformer", FluxLora("flux_lora_b"), ", \"prefix\": \"transformer\""),
                Entry("Kohya", FluxLora("flux_lora_a_kohya")),
                Entry("Subset", FluxLora("flux_lora_a_kohya_subset"))),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Styles\", \"members\": [\"A\", \"BTransformer\", \"Kohya\"], \"targetRank\": 8 } ],\n" +
            "  \"merges\": [ { \"name\": \"AKohyaCat\", \"adapters\": [\"A\", \"Kohya\"], \"weights\": [0.5, 0.5], \"combinationType\": \"cat\" } ]");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        string marker = Source(outcome, "F.TinyFlux.g.cs");
        Assert.Contains("Flux transformer config", marker);
        string a = Source(outcome, "Adapters.A.g.cs");
        Assert.Contains("LoraAdapter<global::F.TinyFlux, global::LoraSdk.Typed.Ranks.Rank4>", a);
        Assert.Contains("new global::LoraSdk.Typed.LoraComponentInfo(\"transformer\", 4, 8d, 2d, 34, 0,", a);
        string b = Source(outcome, "Adapters.B.g.cs");
        Assert.Contains("new global::LoraSdk.Typed.LoraComponentInfo(\"transformer\", 8, 4d, 0.5d, 16, 0,", b);
        Assert.Contains("new global::LoraSdk.Typed.LoraComponentInfo(\"text_encoder\", 8, 4d, 0.5d, 20, 0,", b);
        // The group swaps the transformer; its first member is the widest (A: 34 modules).
        string group = Source(outcome, "HotswapGroups.Styles.g.cs");
        Assert.Contains("34 transformer modules", group);
        Assert.Contains("public override int ResultRank => 8;", Source(outcome, "Merges.AKohyaCat.g.cs"));
    }

    [Fact]
    public void KohyaFileTypedAdapterListsTheSplitModules()
    {
        var (outcome, _) = Run(TinyFluxBase, Entry("Kohya", FluxLora("flux_lora_a_kohya")));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        string kohya = Source(outcome, "Adapters.Kohya.g.cs");
        Assert.Contains("Key format: <c>kohya_flux</c>", kohya);
        // alpha folded into the tensors: alpha = rank, scaling 1 (diffusers' conversion).
        Assert.Contains("new global::LoraSdk.Typed.LoraComponentInfo(\"transformer\", 4, 4d, 1d, 26, 0,", kohya);
        foreach (var module in new[] { "transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.to_v",
                     "transformer_blocks.1.attn.add_q_proj", "transformer_blocks.1.attn.add_k_proj", "transformer_blocks.1.attn.add_v_proj" })
            Assert.Contains(module, kohya);
        Assert.DoesNotContain("double_blocks", kohya.Replace("Format", ""));
    }

    [Fact]
    public void SdxlLoraInAFluxManifestIsTheBaseModelDiagnosticAtTheFile()
    {
        var (outcome, manifest) = Run(TinyFluxBase, string.Join(",\n", Entry("Flux", FluxLora("flux_lora_a")),
            Entry("Sdxl", JsonWriter.Quote(RepoPaths.Lora("lora_a")))));
        // The tiny SDXL LoRA's shapes imply no public architecture; its UNet part is what makes it another base model's.
        var d = Assert.Single(outcome.Diagnostics("LSDK006"));
        Assert.StartsWith("Adapter 'Sdxl': 96 layer(s) do not fit the base model (e.g. 'unet: ", d.GetMessage());
        Assert.Contains("the base model 'TinyFlux' is a Flux transformer model and has no unet", d.GetMessage());
        Assert.EndsWith("but the manifest's base model is 'TinyFlux'", d.GetMessage());
        string text = File.ReadAllText(manifest);
        int line = text.Split('\n').ToList().FindIndex(l => l.Contains("\"Sdxl\""));
        Assert.Equal(line, d.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("\"file\"", text.Split('\n')[line].Substring(d.Location.GetLineSpan().StartLinePosition.Character - 8));
        // Its text_encoder_2 part has nowhere to go in a Flux base model (as in an SD 1.5 one).
        Assert.Contains(outcome.Diagnostics("LSDK004"), x => x.GetMessage().Contains("component 'text_encoder_2' of the base model 'TinyFlux'"));
    }

    [Fact]
    public void FluxLoraInAnSdxlManifestIsTheBaseModelDiagnostic()
    {
        var (outcome, _) = Run("\"sdxl\"", Entry("Flux", FluxLora("flux_lora_a_kohya")));
        var d = Assert.Single(outcome.Diagnostics("LSDK006"));
        Assert.StartsWith("Adapter 'Flux': its tensor shapes imply 'flux'; 26 layer(s) do not fit the base model (e.g. 'transformer: ", d.GetMessage());
        Assert.EndsWith("the base model 'sdxl' is a UNet model and has no transformer), but the manifest's base model is 'sdxl'", d.GetMessage());
        Assert.Empty(outcome.Diagnostics("LSDK004"));
    }

    [Fact]
    public void ArchitectureFluxUsesTheBuiltInFlux1LayoutAndBuiltInFluxIsAMarker()
    {
        // The tiny LoRA's 32-wide layers are not FLUX.1's 3072-wide ones.
        var (custom, _) = Run("""{ "name": "MyFlux", "architecture": "flux" }""", Entry("A", FluxLora("flux_lora_a")));
        var d = Assert.Single(custom.Diagnostics("LSDK006"));
        Assert.Contains("34 layer(s) do not fit the base model (e.g. 'transformer: ", d.GetMessage());
        var (builtIn, _) = Run("\"flux\"", Entry("A", FluxLora("flux_lora_a")));
        Assert.Single(builtIn.Diagnostics("LSDK006"));
        Assert.Contains("LoraAdapter<global::LoraSdk.Typed.Flux, global::LoraSdk.Typed.Ranks.Rank4>", Source(builtIn, "Adapters.A.g.cs"));
    }

    [Fact]
    public void HotswapChecksWorkForTheTransformer()
    {
        var (outcome, _) = Run(TinyFluxBase, string.Join(",\n", Entry("B", FluxLora("flux_lora_b")), Entry("Extras", FluxLora("flux_lora_kohya_extras"))),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"B\", \"Extras\"], \"targetRank\": 4 } ]");
        // B has a CLIP part; Extras targets the modulations B does not; B's rank 8 exceeds the target rank.
        Assert.Equal("Hotswap group 'Slot': member 'B' has a text-encoder part ('text_encoder'), which cannot be hotswapped; give it \"prefix\": \"transformer\"",
            Assert.Single(outcome.Diagnostics("LSDK014")).GetMessage());
        Assert.StartsWith("Hotswap group 'Slot': member 'Extras' targets 6 layer(s) that the group's first member 'B' does not",
            Assert.Single(outcome.Diagnostics("LSDK007")).GetMessage());
        Assert.Equal("Hotswap group 'Slot': targetRank 4 is below the rank 8 of member 'B'", Assert.Single(outcome.Diagnostics("LSDK008")).GetMessage());
        // The layers diffusers drops from the kohya file are reported as not applied.
        Assert.Contains("30 key(s)", Assert.Single(outcome.Diagnostics("LSDK013")).GetMessage());
    }

    [Fact]
    public void UnetAndTransformerConfigTogetherAreRefused()
    {
        var (outcome, _) = Run($$"""{ "name": "Both", "transformerConfig": {{Config("transformer")}}, "unetConfig": {{JsonWriter.Quote(RepoPaths.Combine("tests", "fixtures", "tiny-sdxl", "unet", "config.json"))}} }""",
            Entry("A", FluxLora("flux_lora_a")));
        Assert.Contains(outcome.Diagnostics("LSDK001"), d => d.GetMessage().Contains("both \"unetConfig\" and \"transformerConfig\""));
    }
}
