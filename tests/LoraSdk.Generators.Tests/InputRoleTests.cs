using System.Collections.Generic;
using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests;

/// <summary>Which AdditionalFiles the generator reads: the LoraSdkRole item metadata first, file names as a fallback.</summary>
public class InputRoleTests
{
    private const string Manifest = """{ "namespace": "Meta", "baseModel": "sdxl", "adapters": [ { "name": "A", "file": "a.safetensors" } ] }""";

    [Fact]
    public void MetadataRoleWinsOverFileNames()
    {
        string manifestPath = "/project/config/my-loras.json";
        string sidecarPath = "/project/obj/side.json";
        var texts = new List<AdditionalText>
        {
            new InMemoryAdditionalText(manifestPath, Manifest),
            new InMemoryAdditionalText(sidecarPath, SidecarJson.For(manifestPath, "a.safetensors").Unet(Modules.Attention(1), 4, 4).TriggerWords("t").ToJson()),
            // Named like a manifest, but its metadata says it is not one: ignored (it would not even parse).
            new InMemoryAdditionalText("/project/other/adapters.manifest", "not json"),
        };
        string key = "build_metadata.AdditionalFiles.LoraSdkRole";
        var options = new TestOptionsProvider(new Dictionary<string, Dictionary<string, string>>
        {
            [manifestPath] = new() { [key] = "Manifest" },
            [sidecarPath] = new() { [key] = "Sidecar" },
            ["/project/other/adapters.manifest"] = new() { [key] = "Other" },
        });
        var driver = GeneratorHarness.CreateDriver(texts, options).RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        Assert.Contains(driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("Meta.Adapters.A.g.cs"));
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void WithoutMetadataFileNamesDecide()
    {
        var outcome = GeneratorHarness.Run(new List<AdditionalText>
        {
            new InMemoryAdditionalText(GeneratorHarness.ManifestPath, Manifest),
            new InMemoryAdditionalText("/project/obj/a.lorasdk.json", GeneratorHarness.Sidecar("a.safetensors").Unet(Modules.Attention(1), 4, 4).TriggerWords("t").ToJson()),
            new InMemoryAdditionalText("/project/notes.json", "{ \"unrelated\": true }"),
        });
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Equal(new[] { "Meta.Adapters.A.g.cs", "Meta.Adapters.g.cs" }, outcome.Sources.Select(s => s.HintName));
    }
}
