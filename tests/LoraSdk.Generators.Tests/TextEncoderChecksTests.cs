using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// What the build checks for the text-encoder parts of a LoRA (docs/generator.md, "The manifest"): each part against
/// the base model's encoder layout — the manifest's <c>textEncoderConfig</c>/<c>textEncoder2Config</c>, else the
/// built-in encoders of its <c>architecture</c> (sdxl: CLIP-L + CLIP-G; sd15: CLIP-L; sd2: OpenCLIP-H), else nothing.
/// Layers the encoder does not have are LSDK004 (all of a part) / LSDK013 (some); layers of another shape are
/// LSDK006; a <c>text_encoder_2</c> part for a model without a second encoder is LSDK004. Real files (lora_a: a tiny
/// SDXL LoRA with both encoder parts) through the build task and the generator.
/// </summary>
public class TextEncoderChecksTests
{
    private static readonly string Tiny = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");

    private static string Config(string part) => JsonWriter.Quote(Path.Combine(Tiny, part, "config.json"));

    private static GeneratorOutcome Run(string baseModel, string prefix = "")
    {
        using var temp = new TempFolder();
        string manifest = temp.Write("adapters.manifest", $$"""
            {
              "namespace": "T",
              "baseModel": {{baseModel}},
              "adapters": [ { "name": "A", "file": {{JsonWriter.Quote(RepoPaths.Lora("lora_a"))}}, "triggerWords": ["a"]{{prefix}} } ]
            }
            """);
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        return GeneratorHarness.Run(BuildStep.AdditionalFiles(manifest, task));
    }

    [Fact]
    public void EncoderConfigsAreTheLayoutsBothPartsAreCheckedAgainst()
    {
        var outcome = Run($$"""{ "name": "TinySdxl", "architecture": "sdxl", "unetConfig": {{Config("unet")}}, "textEncoderConfig": {{Config("text_encoder")}}, "textEncoder2Config": {{Config("text_encoder_2")}} }""");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    [Fact]
    public void WithoutEncoderConfigsTheArchitecturesBuiltInEncodersAreTheLayouts()
    {
        // The tiny encoders have the CLIP-L / CLIP-G layer names but other widths: every module is a shape mismatch.
        var outcome = Run($$"""{ "name": "TinySdxl", "architecture": "sdxl", "unetConfig": {{Config("unet")}} }""");
        var d = Assert.Single(outcome.GeneratorDiagnostics);
        Assert.Equal("LSDK006", d.Id);
        Assert.StartsWith("Adapter 'A': 40 layer(s) do not fit the base model (e.g. 'text_encoder: ", d.GetMessage());
        // "prefix": "unet" leaves the encoders out.
        Assert.True(Run($$"""{ "name": "TinySdxl", "architecture": "sdxl", "unetConfig": {{Config("unet")}} }""", ", \"prefix\": \"unet\"")
            .GeneratorDiagnostics.IsEmpty);
    }

    [Fact]
    public void WithoutEncoderConfigsAndArchitectureTheEncodersAreNotChecked()
    {
        var outcome = Run($$"""{ "name": "TinySdxl", "unetConfig": {{Config("unet")}} }""");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    [Fact]
    public void ASecondEncoderPartForAModelWithoutOneIsLsdk004()
    {
        var outcome = Run($$"""{ "name": "Tiny15", "architecture": "sd15", "unetConfig": {{Config("unet")}}, "textEncoderConfig": {{Config("text_encoder")}} }""");
        var d = Assert.Single(outcome.GeneratorDiagnostics);
        Assert.Equal("LSDK004", d.Id);
        Assert.Equal($"Adapter 'A': no LoRA key of '{RepoPaths.Lora("lora_a")}' maps to a known layer of component 'text_encoder_2' of the base model 'Tiny15'", d.GetMessage());
    }
}
