using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// The generated code needs C# 8 (nullable annotations, <c>??=</c>): every version from 8 on compiles it without a
/// diagnostic; an older one gets one LSDK017 at the manifest and no generated code instead of a page of CS8370.
/// </summary>
public class LanguageVersionTests
{
    /// <summary>Every kind of generated file: custom base model, adapters (with and without rank marker), group, merge, catalog.</summary>
    private const string Manifest = """
        {
          "namespace": "Demo.Loras",
          "baseModel": { "name": "Tiny", "architecture": "sdxl" },
          "adapters": [
            { "name": "Ikea", "file": "ikea.safetensors", "triggerWords": ["ikea"], "prefix": "unet" },
            { "name": "Odd", "file": "odd.safetensors", "triggerWords": ["odd"] }
          ],
          "hotswapGroups": [ { "name": "Styles", "members": ["Ikea", "Odd"] } ],
          "merges": [ { "name": "Both", "adapters": ["Ikea", "Odd"], "weights": [1, 0.5], "combinationType": "cat" } ]
        }
        """;

    private static GeneratorOutcome Run(LanguageVersion version) =>
        GeneratorHarness.Run(
            GeneratorHarness.Inputs(Manifest, new[]
            {
                GeneratorHarness.Sidecar("ikea.safetensors").Unet(Modules.Attention(2), 4, 8),
                GeneratorHarness.Sidecar("odd.safetensors").Unet(Modules.Attention(1), 300, 300),
            }),
            GeneratorHarness.ParseOptions.WithLanguageVersion(version),
            "namespace Use { public static class C { public static int Rank() => 0; } }");

    [Theory]
    [InlineData(LanguageVersion.CSharp8)]
    [InlineData(LanguageVersion.CSharp9)]
    [InlineData(LanguageVersion.CSharp10)]
    [InlineData(LanguageVersion.CSharp11)]
    [InlineData(LanguageVersion.CSharp12)]
    [InlineData(LanguageVersion.CSharp13)]
    [InlineData(LanguageVersion.Latest)]
    [InlineData(LanguageVersion.Preview)]
    public void GeneratedCodeCompilesFromCSharp8On(LanguageVersion version)
    {
        var outcome = Run(version);
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Equal(6, outcome.Sources.Count);
        Assert.Empty(outcome.CompilationErrors);
    }

    [Theory]
    [InlineData(LanguageVersion.CSharp7_3, "7.3")]
    [InlineData(LanguageVersion.CSharp7, "7.0")]
    [InlineData(LanguageVersion.CSharp6, "6")]
    public void OlderVersionsGetOneDiagnosticAndNoCode(LanguageVersion version, string shown)
    {
        var outcome = Run(version);
        var d = DiagnosticAssert.Only(outcome, "LSDK017").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal($"The typed adapters of '{GeneratorHarness.ManifestPath}' need C# 8.0 or later, but this project compiles with C# {shown}: " +
                     "set <LangVersion>8.0</LangVersion> or later. No adapter code was generated.", d.GetMessage());
        var span = d.Location.GetLineSpan();
        Assert.Equal((GeneratorHarness.ManifestPath, 0, 0), (span.Path, span.StartLinePosition.Line, span.StartLinePosition.Character));
        Assert.Empty(outcome.Sources);
        Assert.Empty(outcome.CompilationErrors);
    }

    [Fact]
    public void ManifestProblemsAreStillReportedOnAnOldVersion()
    {
        var outcome = GeneratorHarness.Run(GeneratorHarness.Inputs(Manifest.Replace("\"Odd\", \"file\"", "\"9odd\", \"file\""), new[]
        {
            GeneratorHarness.Sidecar("ikea.safetensors").Unet(Modules.Attention(2), 4, 8),
            GeneratorHarness.Sidecar("odd.safetensors").Unet(Modules.Attention(1), 300, 300),
        }), GeneratorHarness.ParseOptions.WithLanguageVersion(LanguageVersion.CSharp7_3));
        Assert.Single(outcome.Diagnostics("LSDK017"));
        Assert.NotEmpty(outcome.Diagnostics("LSDK011"));
        Assert.Empty(outcome.Sources);
    }
}
