using System.Collections.Generic;
using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// The incremental pipeline caches (trackIncrementalGeneratorSteps: true, named steps in TrackingNames): an unrelated
/// edit or identical inputs leave every step Cached/Unchanged; editing one adapter re-emits only that adapter.
/// </summary>
public class IncrementalTests
{
    private static string Manifest(string ikeaWords) => $$"""
        {
          "namespace": "Demo", "baseModel": { "name": "Custom", "architecture": "sdxl" },
          "adapters": [
            { "name": "Ikea", "file": "ikea.safetensors", "triggerWords": [{{ikeaWords}}] },
            { "name": "Feng", "file": "feng.safetensors" },
            { "name": "Detail", "file": "detail.safetensors" }
          ],
          "hotswapGroups": [ { "name": "Styles", "members": ["Ikea", "Feng"] } ],
          "merges": [ { "name": "M", "adapters": ["Feng", "Detail"], "weights": [1, 1], "combinationType": "cat" } ]
        }
        """;

    private static SidecarJson[] Sidecars(int detailRank = 4) => new[]
    {
        GeneratorHarness.Sidecar("ikea.safetensors").Unet(Modules.Attention(2), 4, 4).TriggerWords("t"),
        GeneratorHarness.Sidecar("feng.safetensors").Unet(Modules.Attention(1), 4, 4).TriggerWords("t"),
        GeneratorHarness.Sidecar("detail.safetensors").Unet(Modules.Attention(1), detailRank, 4).TriggerWords("t"),
    };

    private static (GeneratorDriver Driver, Compilation Compilation, List<AdditionalText> Texts) FirstRun()
    {
        var texts = GeneratorHarness.Inputs(Manifest("\"ikea\""), Sidecars());
        var compilation = GeneratorHarness.Compilation("class A { }", "class B { }");
        var driver = GeneratorHarness.CreateDriver(texts).RunGenerators(compilation);
        return (driver, compilation, texts);
    }

    private static Dictionary<string, List<IncrementalStepRunReason>> Reasons(GeneratorDriver driver)
    {
        var result = driver.GetRunResult().Results.Single();
        return TrackingNames.All.Where(result.TrackedSteps.ContainsKey).ToDictionary(
            name => name,
            name => result.TrackedSteps[name].SelectMany(step => step.Outputs.Select(o => o.Reason)).ToList());
    }

    /// <summary>The step's output did not change, so its source output does not run again.</summary>
    private static void NotReemitted(IncrementalStepRunReason reason) =>
        Assert.True(reason == IncrementalStepRunReason.Cached || reason == IncrementalStepRunReason.Unchanged, reason.ToString());

    private static void AssertAllCached(GeneratorDriver driver)
    {
        var reasons = Reasons(driver);
        Assert.Equal(TrackingNames.All.OrderBy(n => n), reasons.Keys.OrderBy(n => n));
        foreach (var (step, list) in reasons)
        {
            Assert.NotEmpty(list);
            Assert.All(list, r => Assert.True(r == IncrementalStepRunReason.Cached || r == IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
    }

    [Fact]
    public void UnrelatedCodeEditIsFullyCached()
    {
        var (driver, compilation, _) = FirstRun();
        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("class A { int x; }", GeneratorHarness.ParseOptions, tree.FilePath));
        driver = driver.RunGenerators(edited);
        AssertAllCached(driver);
    }

    [Fact]
    public void IdenticalInputsReaddedAreCached()
    {
        var (driver, compilation, texts) = FirstRun();
        foreach (var text in texts)
            driver = driver.ReplaceAdditionalText(text, new InMemoryAdditionalText(text.Path, text.GetText()!.ToString()));
        driver = driver.RunGenerators(compilation);
        AssertAllCached(driver);
    }

    [Fact]
    public void EditingOneAdapterEntryReemitsOnlyThatAdapter()
    {
        var (driver, compilation, texts) = FirstRun();
        var before = driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        // Another trigger word on its own new line: every later manifest location moves, Ikea's facts change.
        driver = driver.ReplaceAdditionalText(texts[0], new InMemoryAdditionalText(texts[0].Path, Manifest("\"ikea\",\n          \"flat pack\"")));
        driver = driver.RunGenerators(compilation);

        var reasons = Reasons(driver);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons[TrackingNames.Bound].Single());
        Assert.Equal(IncrementalStepRunReason.Modified, reasons[TrackingNames.Adapter][0]);
        Assert.All(reasons[TrackingNames.Adapter].Skip(1), NotReemitted);
        Assert.All(reasons[TrackingNames.Catalog], NotReemitted);
        Assert.All(reasons[TrackingNames.BaseModel], NotReemitted);
        Assert.All(reasons[TrackingNames.HotswapGroup], NotReemitted);
        Assert.All(reasons[TrackingNames.Merge], NotReemitted);
        Assert.All(reasons[TrackingNames.Sidecars], r => Assert.Equal(IncrementalStepRunReason.Cached, r));

        var after = driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        Assert.Equal(before.Keys.OrderBy(k => k), after.Keys.OrderBy(k => k));
        var changed = before.Keys.Where(k => before[k] != after[k]).ToList();
        Assert.Equal(new[] { "Demo.Adapters.Ikea.g.cs" }, changed);
        Assert.Contains("\"flat pack\"", after["Demo.Adapters.Ikea.g.cs"]);
    }

    [Fact]
    public void ChangedHeaderOfOneFileReemitsItsAdapterAndTheMergeUsingIt()
    {
        var (driver, compilation, texts) = FirstRun();
        var detail = texts.Single(t => t.Path.Contains("detail"));
        var newSidecar = Sidecars(detailRank: 8)[2].ToJson();
        driver = driver.ReplaceAdditionalText(detail, new InMemoryAdditionalText(detail.Path, newSidecar));
        driver = driver.RunGenerators(compilation);

        var reasons = Reasons(driver);
        Assert.Equal(IncrementalStepRunReason.Cached, Assert.Single(reasons[TrackingNames.Manifest]));
        Assert.All(reasons[TrackingNames.Adapter].Take(2), NotReemitted);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons[TrackingNames.Adapter][2]);
        NotReemitted(Assert.Single(reasons[TrackingNames.HotswapGroup]));
        Assert.Equal(IncrementalStepRunReason.Modified, Assert.Single(reasons[TrackingNames.Merge]));
        NotReemitted(Assert.Single(reasons[TrackingNames.Catalog]));
    }
}
