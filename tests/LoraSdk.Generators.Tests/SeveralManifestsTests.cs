using System.Collections.Generic;
using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static LoraSdk.Generators.Tests.Infrastructure.DiagnosticAssert;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// Several manifests in one compilation: what two or three manifests declare twice (a catalog class, a base-model
/// marker, the per-namespace HotswapGroups/Merges classes, a type named like another manifest's namespace) is one
/// LSDK016 at the later manifest's value, never a generator crash (CS8785) — and the rest still compiles. Names that
/// differ only in letter case get distinct generated file names.
/// </summary>
public class SeveralManifestsTests
{
    private const string PathA = "/project/a/adapters.manifest";
    private const string PathB = "/project/b/adapters.manifest";
    private const string PathC = "/project/c/adapters.manifest";

    /// <summary>A manifest: <c>namespace</c> on line 2, <c>catalog</c> (when given) on line 3, then baseModel, adapters, groups, merges one per line.</summary>
    private static string Manifest(string ns, string? catalog, string baseModel, string[] adapters, string? groups = null, string? merges = null) =>
        "{\n" +
        $"  \"namespace\": \"{ns}\",\n" +
        (catalog != null ? $"  \"catalog\": \"{catalog}\",\n" : "") +
        $"  \"baseModel\": {baseModel},\n" +
        $"  \"adapters\": [ {string.Join(", ", adapters.Select(a => $"{{ \"name\": \"{a}\", \"file\": \"{a.ToLowerInvariant()}.safetensors\", \"triggerWords\": [\"t\"] }}"))} ]" +
        (groups != null ? $",\n  \"hotswapGroups\": {groups}" : "") +
        (merges != null ? $",\n  \"merges\": {merges}" : "") +
        "\n}\n";

    private static List<AdditionalText> Inputs(params (string Path, string Text, string[] Adapters)[] manifests)
    {
        var texts = new List<AdditionalText>();
        foreach (var (path, text, adapters) in manifests)
        {
            texts.Add(new InMemoryAdditionalText(path, text));
            foreach (var a in adapters)
            {
                string file = a.ToLowerInvariant() + ".safetensors";
                texts.Add(new InMemoryAdditionalText(path.Replace("adapters.manifest", $"obj/{a}.lorasdk.json"),
                    SidecarJson.For(path, file).Unet(Modules.Attention(2), 4, 4).TriggerWords("t").ToJson()));
            }
        }
        return texts;
    }

    private static GeneratorOutcome Run(params (string Path, string Text, string[] Adapters)[] manifests) =>
        GeneratorHarness.Run(Inputs(manifests));

    /// <summary>No generator crash, no diagnostic but LSDK016, and the generated code compiles.</summary>
    private static Diagnostic[] OnlyCollisions(GeneratorOutcome outcome, int count)
    {
        Assert.DoesNotContain(outcome.GeneratorDiagnostics, d => d.Id is "CS8785" or "AD0001");
        var ds = Only(outcome, "LSDK016", count);
        Assert.All(ds, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Empty(outcome.CompilationErrors);
        return ds;
    }

    private static string[] Hints(GeneratorOutcome outcome) => outcome.Sources.Select(s => s.HintName).ToArray();

    [Fact]
    public void TwoManifestsWithTheSameCatalogClass()
    {
        string a = Manifest("Demo", null, "\"sdxl\"", new[] { "Ikea" });
        string b = Manifest("Demo", null, "\"sdxl\"", new[] { "Ikea", "Feng" });
        var outcome = Run((PathB, b, new[] { "Ikea", "Feng" }), (PathA, a, new[] { "Ikea" }));
        var d = OnlyCollisions(outcome, 1).Single();
        Assert.Equal($"The catalog class 'Demo.Adapters' is already generated from '{PathA}'; give this manifest another \"namespace\" or \"catalog\"", d.GetMessage());
        At(d, b, 2, "\"Demo\"", PathB);
        Assert.Equal(new[] { "Demo.Adapters.Ikea.g.cs", "Demo.Adapters.g.cs" }, Hints(outcome));
    }

    [Fact]
    public void ThreeManifestsWithTheSameExplicitCatalog()
    {
        string a = Manifest("Demo", "Loras", "\"sdxl\"", new[] { "Ikea" });
        string b = Manifest("Demo", "Loras", "\"sdxl\"", new[] { "Feng" });
        string c = Manifest("Demo", "Loras", "\"sd15\"", new[] { "Ikea" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Feng" }), (PathC, c, new[] { "Ikea" }));
        var ds = OnlyCollisions(outcome, 2);
        Assert.Equal(new[] { PathB, PathC }, ds.Select(d => d.Location.GetLineSpan().Path).OrderBy(p => p));
        foreach (var d in ds)
        {
            Assert.Equal($"The catalog class 'Demo.Loras' is already generated from '{PathA}'; give this manifest another \"namespace\" or \"catalog\"", d.GetMessage());
            At(d, d.Location.GetLineSpan().Path == PathB ? b : c, 3, "\"Loras\"", d.Location.GetLineSpan().Path);
        }
        Assert.Equal(new[] { "Demo.Loras.Ikea.g.cs", "Demo.Loras.g.cs" }, Hints(outcome));
    }

    [Fact]
    public void HotswapGroupsAndMergesAreOneClassPerNamespace()
    {
        string groups = "[ { \"name\": \"Styles\", \"members\": [\"Ikea\"] } ]";
        string a = Manifest("Demo", null, "\"sdxl\"", new[] { "Ikea", "Feng" }, groups,
            "[ { \"name\": \"Both\", \"adapters\": [\"Ikea\", \"Feng\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]");
        string b = Manifest("Demo", "Portraits", "\"sdxl\"", new[] { "Face", "Eyes" }, groups.Replace("Styles", "Looks").Replace("Ikea", "Face"),
            "[ { \"name\": \"Mix\", \"adapters\": [\"Face\", \"Eyes\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]");
        var outcome = Run((PathA, a, new[] { "Ikea", "Feng" }), (PathB, b, new[] { "Face", "Eyes" }));
        var ds = OnlyCollisions(outcome, 2);
        Assert.Equal($"The class 'Demo.HotswapGroups' is already generated from '{PathA}' (one per namespace); declare these hotswap groups in that manifest, or give this manifest another \"namespace\"", ds[0].GetMessage());
        At(ds[0], b, 6, "[ { \"name\": \"Looks\", \"members\": [\"Face\"] } ]", PathB);
        Assert.Equal($"The class 'Demo.Merges' is already generated from '{PathA}' (one per namespace); declare these merges in that manifest, or give this manifest another \"namespace\"", ds[1].GetMessage());
        At(ds[1], b, 7, "[ { \"name\": \"Mix\", \"adapters\": [\"Face\", \"Eyes\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]", PathB);
        // The second manifest's adapters are generated; its groups and merges are not (nor listed in its catalog).
        Assert.Equal(new[]
        {
            "Demo.Adapters.Feng.g.cs", "Demo.Adapters.Ikea.g.cs", "Demo.Adapters.g.cs", "Demo.HotswapGroups.Styles.g.cs", "Demo.Merges.Both.g.cs",
            "Demo.Portraits.Eyes.g.cs", "Demo.Portraits.Face.g.cs", "Demo.Portraits.g.cs",
        }, Hints(outcome));
    }

    [Fact]
    public void ManifestsInTheirOwnNamespacesDoNotCollide()
    {
        string groups = "[ { \"name\": \"Styles\", \"members\": [\"Ikea\"] } ]";
        string merges = "[ { \"name\": \"Both\", \"adapters\": [\"Ikea\", \"Feng\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]";
        string tiny = "{ \"name\": \"Tiny\", \"architecture\": \"sdxl\" }";
        string a = Manifest("Demo.A", null, tiny, new[] { "Ikea", "Feng" }, groups, merges);
        string b = Manifest("Demo.B", null, tiny.Replace("sdxl", "sd15"), new[] { "Ikea", "Feng" }, groups, merges);
        string c = Manifest("Other", null, "\"sdxl\"", new[] { "Ikea", "Feng" }, groups, merges);
        var outcome = Run((PathA, a, new[] { "Ikea", "Feng" }), (PathB, b, new[] { "Ikea", "Feng" }), (PathC, c, new[] { "Ikea", "Feng" }));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Assert.Equal(3 * 5 + 2, outcome.Sources.Count);
    }

    [Fact]
    public void TwoManifestsShareACustomBaseModelDeclaredAlike()
    {
        string tiny = "{ \"name\": \"Tiny\", \"architecture\": \"sdxl\" }";
        string a = Manifest("Demo", null, tiny, new[] { "Ikea" });
        string b = Manifest("Demo", "Portraits", tiny, new[] { "Face" });
        var outcome = GeneratorHarness.Run(Inputs((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Face" })),
            "public static class Use { public static LoraSdk.Typed.LoraAdapter<Demo.Tiny>[] All => new LoraSdk.Typed.LoraAdapter<Demo.Tiny>[] { Demo.Adapters.Ikea, Demo.Portraits.Face }; }");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Assert.Single(Hints(outcome), h => h == "Demo.Tiny.g.cs");
    }

    [Fact]
    public void ACustomBaseModelDeclaredDifferentlyCollides()
    {
        string a = Manifest("Demo", null, "{ \"name\": \"Tiny\", \"architecture\": \"sdxl\" }", new[] { "Ikea" });
        string b = Manifest("Demo", "Portraits", "{ \"name\": \"Tiny\", \"architecture\": \"sd15\" }", new[] { "Face" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Face" }));
        var d = OnlyCollisions(outcome, 1).Single();
        Assert.Equal($"The base-model marker 'Demo.Tiny' is already generated from '{PathA}' with architecture 'sdxl' (here 'sd15'); " +
                     "declare it alike in both manifests, or give this one another name or \"namespace\"", d.GetMessage());
        At(d, b, 4, "\"Tiny\"", PathB);
        Assert.DoesNotContain(Hints(outcome), h => h.StartsWith("Demo.Portraits", System.StringComparison.Ordinal));
    }

    [Fact]
    public void ACatalogNamedLikeAnotherManifestsBaseModelCollides()
    {
        string a = Manifest("Demo", null, "{ \"name\": \"Tiny\", \"architecture\": \"sdxl\" }", new[] { "Ikea" });
        string b = Manifest("Demo", "Tiny", "\"sdxl\"", new[] { "Face" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Face" }));
        var d = OnlyCollisions(outcome, 1).Single();
        Assert.Equal($"The catalog class 'Demo.Tiny' has the name of the base-model marker generated from '{PathA}'; give this manifest another \"namespace\" or \"catalog\"", d.GetMessage());
        At(d, b, 3, "\"Tiny\"", PathB);
    }

    [Fact]
    public void ANamespaceNamedLikeAnotherManifestsClassCollides()
    {
        string a = Manifest("Demo", "Loras", "\"sdxl\"", new[] { "Ikea" });
        string b = Manifest("Demo.Loras.Faces", null, "\"sdxl\"", new[] { "Face" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Face" }));
        var d = OnlyCollisions(outcome, 1).Single();
        Assert.Equal($"The namespace 'Demo.Loras.Faces' contains 'Demo.Loras', the catalog class generated from '{PathA}'; give this manifest another \"namespace\"", d.GetMessage());
        At(d, b, 2, "\"Demo.Loras.Faces\"", PathB);

        // The other way round: the earlier manifest (ordinal path order) declares the namespace, the later one the class.
        var swapped = Run((PathA, b, new[] { "Face" }), (PathB, a, new[] { "Ikea" }));
        var e = OnlyCollisions(swapped, 1).Single();
        Assert.Equal($"The catalog class 'Demo.Loras' has the name of the namespace 'Demo.Loras' of '{PathA}'; give this manifest another \"namespace\" or \"catalog\"", e.GetMessage());
        At(e, a, 3, "\"Loras\"", PathB);
    }

    [Fact]
    public void ThreeManifestsShareABaseModelAndCollideOnGroups()
    {
        string tiny = "{ \"name\": \"Tiny\", \"architecture\": \"sdxl\" }";
        string groups = "[ { \"name\": \"G\", \"members\": [\"X\"] } ]";
        string a = Manifest("Demo", "Loras", tiny, new[] { "Ikea" });
        string b = Manifest("Demo", "Other", tiny, new[] { "Feng" }, groups.Replace("X", "Feng"));
        string c = Manifest("Demo", "Third", "\"sdxl\"", new[] { "Face" }, groups.Replace("\"G\"", "\"H\"").Replace("X", "Face"));
        var outcome = Run((PathC, c, new[] { "Face" }), (PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Feng" }));
        var d = OnlyCollisions(outcome, 1).Single();
        Assert.Equal($"The class 'Demo.HotswapGroups' is already generated from '{PathB}' (one per namespace); declare these hotswap groups in that manifest, or give this manifest another \"namespace\"", d.GetMessage());
        At(d, c, 6, "[ { \"name\": \"H\", \"members\": [\"Face\"] } ]", PathC);
        Assert.Single(Hints(outcome), h => h == "Demo.Tiny.g.cs");
        Assert.Contains("Demo.HotswapGroups.G.g.cs", Hints(outcome));
        Assert.Contains("Demo.Third.Face.g.cs", Hints(outcome));
    }

    [Fact]
    public void TheSameManifestListedTwiceIsGeneratedOnce()
    {
        string a = Manifest("Demo", null, "\"sdxl\"", new[] { "Ikea" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathA, a, new string[0]));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Assert.Equal(new[] { "Demo.Adapters.Ikea.g.cs", "Demo.Adapters.g.cs" }, Hints(outcome));
    }

    [Fact]
    public void NamesThatDifferOnlyInCaseGetDistinctFiles()
    {
        // C# tells Ikea from IKEA (and Loras from loras); generated file names must too, on case-insensitive file systems.
        string a = "{ \"namespace\": \"Demo\", \"catalog\": \"Loras\", \"baseModel\": \"sdxl\", \"adapters\": [ " +
                   "{ \"name\": \"Ikea\", \"file\": \"ikea.safetensors\", \"triggerWords\": [\"t\"] }, { \"name\": \"IKEA\", \"file\": \"ikea.safetensors\", \"triggerWords\": [\"t\"] } ] }";
        string b = Manifest("Demo", "loras", "\"sdxl\"", new[] { "Feng" });
        var outcome = Run((PathA, a, new[] { "Ikea" }), (PathB, b, new[] { "Feng" }));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        var hints = Hints(outcome);
        Assert.Equal(5, hints.Length);
        Assert.Equal(hints.Length, hints.Distinct(System.StringComparer.OrdinalIgnoreCase).Count());
        // A name without a case twin keeps its plain file name.
        Assert.Contains("Demo.loras.Feng.g.cs", hints);
    }
}
