using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// The build follows the engine's variant policy (<see cref="LoraVariantPolicy"/>): a variant the formats core reads but
/// the runtime engine refuses at load (LoCon/Tucker <c>lora_mid</c>) fails the build as LSDK005, those the engine applies
/// (PEFT DoRA, LyCORIS LoHa and LoKr) build and show their variant, and a hotswap group of a LoHa adapter is LSDK018 —
/// real files through the build task and the generator.
/// </summary>
public class EngineRefusedVariantTests
{
    private static readonly string TinySdxl = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");

    private static string Manifest(string file) => $$"""
        {
          "namespace": "Demo",
          "baseModel": { "name": "TinySdxl", "architecture": "sdxl",
            "unetConfig": {{JsonWriter.Quote(Path.Combine(TinySdxl, "unet", "config.json"))}},
            "textEncoderConfig": {{JsonWriter.Quote(Path.Combine(TinySdxl, "text_encoder", "config.json"))}},
            "textEncoder2Config": {{JsonWriter.Quote(Path.Combine(TinySdxl, "text_encoder_2", "config.json"))}} },
          "adapters": [
            { "name": "D", "file": "{{file}}", "triggerWords": ["d"] }
          ]
        }
        """;

    /// <summary>Writes a safetensors file with these tensors (zero data) and metadata.</summary>
    private static void Write(string path, IReadOnlyList<SafetensorsTensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = SafetensorsHeaderWriter.Build(tensors, metadata);
        using var stream = File.Create(path);
        stream.Write(header);
        stream.SetLength(header.Length + tensors.Sum(t => t.ByteLength));
    }

    /// <summary>lora_a's tensors, plus a PEFT DoRA magnitude vector (shape [out]) for every UNet module when asked.</summary>
    private static void WriteLoraA(string path, bool dora)
    {
        var source = SafetensorsHeader.Read(RepoPaths.Lora("lora_a"));
        var tensors = source.Tensors.Select(t => new SafetensorsTensorEntry(t.Name, t.DType, t.Shape)).ToList();
        if (dora)
        {
            foreach (var up in source.Tensors.Where(t => t.Name.StartsWith("unet.", System.StringComparison.Ordinal) && t.Name.EndsWith(".lora_B.weight", System.StringComparison.Ordinal)))
                tensors.Add(new SafetensorsTensorEntry(up.Name.Replace(".lora_B.weight", ".lora_magnitude_vector"), SafetensorsDType.F32, new[] { up.Shape[0] }));
        }
        Write(path, tensors, source.Metadata);
    }

    /// <summary>
    /// lora_a's modules as LoHa in LoraSdk's saved form (<c>&lt;component&gt;.&lt;module&gt;.hada_w1_a</c>, …, <c>.alpha</c>):
    /// hada_w*_a has lora_B's (out, r), hada_w*_b lora_A's (r, in·kh·kw).
    /// </summary>
    private static void WriteLoraAAsLoha(string path)
    {
        var source = SafetensorsHeader.Read(RepoPaths.Lora("lora_a"));
        var tensors = new List<SafetensorsTensorEntry>();
        foreach (var down in source.Tensors.Where(t => t.Name.EndsWith(".lora_A.weight", System.StringComparison.Ordinal)))
        {
            string module = down.Name.Substring(0, down.Name.Length - ".lora_A.weight".Length);
            var up = source.Tensors.Single(t => t.Name == module + ".lora_B.weight");
            long[] a = { up.Shape[0], up.Shape[1] };
            long[] b = { down.Shape[0], down.Shape.Skip(1).Aggregate(1L, (x, y) => x * y) };
            foreach (var (suffix, shape) in new[] { ("hada_w1_a", a), ("hada_w1_b", b), ("hada_w2_a", a), ("hada_w2_b", b) })
                tensors.Add(new SafetensorsTensorEntry(module + "." + suffix, SafetensorsDType.F32, shape));
            tensors.Add(new SafetensorsTensorEntry(module + ".alpha", SafetensorsDType.F32, System.Array.Empty<long>()));
        }
        Write(path, tensors, null);
    }

    private static (GeneratorOutcome Outcome, string Manifest) Build(TempFolder temp, string file, string? manifestText = null)
    {
        manifestText ??= Manifest(file);
        string manifest = temp.Write("adapters.manifest", manifestText);
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj/lorasdk"));
        return (GeneratorHarness.Run(BuildStep.AdditionalFiles(manifest, task)), manifestText);
    }

    private static void AtFileValue(Diagnostic d, string manifest, string file)
    {
        var span = d.Location.GetLineSpan();
        Assert.Equal(8, span.StartLinePosition.Line + 1);
        Assert.Equal("\"" + file + "\"", manifest.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }

    [Fact]
    public void PeftDoraBuildsBecauseTheEngineAppliesIt()
    {
        using var temp = new TempFolder();
        WriteLoraA(temp.File("dora.safetensors"), dora: true);
        var model = LoraFileModel.Read(temp.File("dora.safetensors"));
        Assert.True(model.UsesDora);
        var magnitudeKeys = model.Components.Values.SelectMany(c => c.Values).Select(m => m.MagnitudeKey).OfType<string>().OrderBy(k => k, System.StringComparer.Ordinal).ToList();
        Assert.Equal(96, magnitudeKeys.Count);

        Assert.Empty(LoraVariantPolicy.Refused(model));

        var (outcome, _) = Build(temp, "dora.safetensors");
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Contains(outcome.Sources, s => s.HintName == "Demo.Adapters.D.g.cs");
    }

    [Fact]
    public void TheSameFileWithoutMagnitudeVectorsIsClean()
    {
        using var temp = new TempFolder();
        WriteLoraA(temp.File("plain.safetensors"), dora: false);
        Assert.False(LoraFileModel.Read(temp.File("plain.safetensors")).UsesDora);

        var (outcome, _) = Build(temp, "plain.safetensors");
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Contains(outcome.Sources, s => s.HintName == "Demo.Adapters.D.g.cs");
    }

    [Fact]
    public void LoconTuckerMidIsReportedAsAnUnsupportedVariant()
    {
        using var temp = new TempFolder();
        const string module = "lora_unet_down_blocks_1_resnets_0_conv1";
        Write(temp.File("tucker.safetensors"), new[]
        {
            new SafetensorsTensorEntry(module + ".lora_down.weight", SafetensorsDType.F32, new long[] { 8, 32, 1, 1 }),
            new SafetensorsTensorEntry(module + ".lora_mid.weight", SafetensorsDType.F32, new long[] { 8, 8, 3, 3 }),
            new SafetensorsTensorEntry(module + ".lora_up.weight", SafetensorsDType.F32, new long[] { 64, 8, 1, 1 }),
        }, null);
        Assert.NotNull(Assert.Single(LoraFileModel.Read(temp.File("tucker.safetensors")).Components["unet"].Values).MidKey);

        var (outcome, manifest) = Build(temp, "tucker.safetensors");
        var d = Assert.Single(outcome.GeneratorDiagnostics);
        Assert.Equal("LSDK005", d.Id);
        Assert.Equal($"Adapter 'D': 'tucker.safetensors' uses the unsupported variant 'locon_mid (Tucker)' (3 key(s), e.g. '{module}.lora_down.weight')", d.GetMessage());
        AtFileValue(d, manifest, "tucker.safetensors");
    }

    [Fact]
    public void LohaBuildsAndTheGeneratedAdapterShowsItsVariant()
    {
        using var temp = new TempFolder();
        WriteLoraAAsLoha(temp.File("loha.safetensors"));
        var model = LoraFileModel.Read(temp.File("loha.safetensors"));
        Assert.Empty(model.InvalidModules);
        Assert.Empty(LoraVariantPolicy.Refused(model));
        Assert.All(model.Components.Values.SelectMany(c => c.Values), m => Assert.Equal(LoraVariants.LoHa, m.Variant));

        var (outcome, _) = Build(temp, "loha.safetensors");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        string source = outcome.Sources.Single(s => s.HintName == "Demo.Adapters.D.g.cs").SourceText.ToString();
        Assert.Contains("public override string Variant => \"loha\";", source);
        Assert.Contains("/// LoHa (LyCORIS) adapter <c>D</c>", source);
        Assert.Contains("public override string Format => \"lycoris_diffusers\";", source);
        Assert.Contains(": global::LoraSdk.Typed.LoraAdapter<global::Demo.TinySdxl>", source); // no rank marker
    }

    [Fact]
    public void AHotswapGroupWithALohaMemberIsReportedFromTheSidecar()
    {
        using var temp = new TempFolder();
        WriteLoraAAsLoha(temp.File("loha.safetensors"));
        WriteLoraA(temp.File("plain.safetensors"), dora: false);
        string manifest = Manifest("plain.safetensors").Replace(
            "{ \"name\": \"D\", \"file\": \"plain.safetensors\", \"triggerWords\": [\"d\"] }",
            "{ \"name\": \"D\", \"file\": \"plain.safetensors\", \"triggerWords\": [\"d\"], \"prefix\": \"unet\" },\n" +
            "    { \"name\": \"H\", \"file\": \"loha.safetensors\", \"triggerWords\": [\"h\"], \"prefix\": \"unet\" }\n" +
            "  ],\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"D\", \"H\"] } ");
        Assert.Contains("\"hotswapGroups\"", manifest);
        var (outcome, _) = Build(temp, "", manifest);
        var d = Assert.Single(outcome.GeneratorDiagnostics);
        Assert.Equal("LSDK018", d.Id);
        Assert.Equal("Hotswap group 'Slot': adapter 'H' uses the variant 'loha', but hot swapping accepts plain LoRA adapters only", d.GetMessage());
    }
}
