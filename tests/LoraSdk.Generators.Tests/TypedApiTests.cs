using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// The typed API contract: snippets compiled against generated adapters. Misuse the manifest can predict does not
/// compile (exact compiler errors asserted); correct use compiles and forwards the right calls to ILoraPipeline.
/// </summary>
public class TypedApiTests
{
    private const string SdxlManifest = "/project/sdxl/adapters.manifest";
    private const string Sd15Manifest = "/project/sd15/adapters.manifest";

    private static List<AdditionalText> Inputs()
    {
        string sdxl = """
            {
              "namespace": "Demo", "baseModel": "sdxl",
              "adapters": [
                { "name": "Ikea", "file": "ikea.safetensors", "defaultWeight": 0.7 },
                { "name": "Feng", "file": "feng.safetensors", "prefix": "unet" },
                { "name": "Big", "file": "big.safetensors" },
                { "name": "Loner", "file": "loner.safetensors" }
              ],
              "hotswapGroups": [ { "name": "Styles", "members": ["Ikea", "Feng"] }, { "name": "Large", "members": ["Big"], "targetRank": 16 } ],
              "merges": [ { "name": "IkeaFeng", "adapters": ["Ikea", "Feng"], "weights": [1.0, 0.5], "combinationType": "ties", "density": 0.5, "seed": 3 } ]
            }
            """;
        string sd15 = """
            { "namespace": "Demo15", "baseModel": "sd15", "adapters": [ { "name": "Old", "file": "old.safetensors" } ] }
            """;
        var texts = new List<AdditionalText>
        {
            new InMemoryAdditionalText(SdxlManifest, sdxl),
            new InMemoryAdditionalText(Sd15Manifest, sd15),
        };
        void Add(string manifest, string file, int rank, int blocks) =>
            texts.Add(new InMemoryAdditionalText(Path.GetDirectoryName(manifest) + "/obj/" + file + ".lorasdk.json",
                SidecarJson.For(manifest, file).Unet(Modules.Attention(blocks), rank, rank).TriggerWords("t").ToJson()));
        Add(SdxlManifest, "ikea.safetensors", 4, 2);
        Add(SdxlManifest, "feng.safetensors", 4, 1);
        Add(SdxlManifest, "big.safetensors", 8, 2);
        Add(SdxlManifest, "loner.safetensors", 8, 1);
        Add(Sd15Manifest, "old.safetensors", 4, 1);
        return texts;
    }

    private static IReadOnlyList<Diagnostic> Errors(string body)
    {
        string source = $$"""
            using LoraSdk.Core;
            using LoraSdk.Typed;
            using Demo;
            public static class Use
            {
                public static void M(ILoraPipeline<Sdxl> pipe)
                {
                    var typed = pipe.Typed();
            {{body}}
                }
            }
            """;
        var outcome = GeneratorHarness.Run(Inputs(), source);
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        return outcome.Compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
    }

    private static void AssertError(string body, string id, string message)
    {
        var errors = Errors(body);
        var error = Assert.Single(errors);
        Assert.Equal(id, error.Id);
        Assert.Equal(message, error.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal("/project/Source0.cs", error.Location.SourceTree!.FilePath);
    }

    [Fact]
    public void AdapterOfAnotherBaseModelDoesNotCompile()
    {
        AssertError("typed.LoadLoraWeights(Demo15.Adapters.Old);", "CS1503",
            "Argument 1: cannot convert from 'Demo15.Adapters.OldAdapter' to 'LoraSdk.Typed.LoraAdapter<LoraSdk.Typed.Sdxl>'");
        AssertError("typed.SetAdapters(Adapters.Ikea.At(0.7), Demo15.Adapters.Old.At(0.8));", "CS1503",
            "Argument 2: cannot convert from 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sd15, LoraSdk.Typed.Ranks.Rank4>' to 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sdxl>'");
        AssertError("pipe.AssumeBaseModel<Sd15>().LoadLoraWeights(Adapters.Ikea);", "CS1503",
            "Argument 1: cannot convert from 'Demo.Adapters.IkeaAdapter' to 'LoraSdk.Typed.LoraAdapter<LoraSdk.Typed.Sd15>'");
    }

    [Fact]
    public void HotswapOfANonMemberDoesNotCompile()
    {
        AssertError("typed.Hotswap(HotswapGroups.Styles, Adapters.Loner);", "CS1503",
            "Argument 2: cannot convert from 'Demo.Adapters.LonerAdapter' to 'LoraSdk.Typed.IHotswapMember<Demo.HotswapGroups.StylesGroup>'");
        AssertError("var slot = typed.EnableHotswap(HotswapGroups.Styles); slot.Swap(Adapters.Big);", "CS1503",
            "Argument 1: cannot convert from 'Demo.Adapters.BigAdapter' to 'LoraSdk.Typed.IHotswapMember<Demo.HotswapGroups.StylesGroup>'");
        // A member of another group: the group argument and the member's only group disagree, so no TGroup fits.
        AssertError("typed.Hotswap(HotswapGroups.Styles, Adapters.Big);", "CS0411",
            "The type arguments for method 'TypedLoraPipeline<Sdxl>.Hotswap<TGroup>(TGroup, IHotswapMember<TGroup>)' cannot be inferred from the usage. Try specifying the type arguments explicitly.");
    }

    [Fact]
    public void EqualRankMergeOfDifferentRanksDoesNotCompile()
    {
        AssertError("var merge = Adapters.Ikea.At(0.5).And(Adapters.Big.At(0.5));", "CS1503",
            "Argument 1: cannot convert from 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sdxl, LoraSdk.Typed.Ranks.Rank8>' to 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sdxl, LoraSdk.Typed.Ranks.Rank4>'");
        AssertError("var merge = Adapters.Ikea.At(1).And(Adapters.Feng.At(1)).And(Adapters.Loner.At(1));", "CS1503",
            "Argument 1: cannot convert from 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sdxl, LoraSdk.Typed.Ranks.Rank8>' to 'LoraSdk.Typed.WeightedAdapter<LoraSdk.Typed.Sdxl, LoraSdk.Typed.Ranks.Rank4>'");
    }

    [Fact]
    public void CorrectUseCompiles()
    {
        Assert.Empty(Errors("""
                    typed.LoadLoraWeights(Adapters.Ikea);
                    typed.SetAdapters(Adapters.Ikea.At(0.7), Adapters.Big.At(0.8));
                    typed.SetAdapters(Adapters.Ikea, Adapters.Feng);
                    var slot = typed.EnableHotswap(HotswapGroups.Styles);
                    slot.Swap(Adapters.Feng);
                    typed.Hotswap(HotswapGroups.Large, Adapters.Big);
                    typed.AddWeightedAdapter("if", Adapters.Ikea.At(0.5).And(Adapters.Feng.At(0.5)), EqualRankCombination.Ties, density: 0.5);
                    typed.AddWeightedAdapter("ib", LoraMerge.Of(Adapters.Ikea.At(1.0), Adapters.Big.At(1.0)), AnyRankCombination.Cat);
                    typed.AddWeightedAdapter(Merges.IkeaFeng);
                    typed.FuseLora(0.8, Adapters.Ikea);
                    typed.DeleteAdapters(Adapters.Big);
                    LoraAdapter<Sdxl>? byName = Adapters.Find("Ikea");
                    int rank = Adapters.Ikea.Rank + Adapters.All.Count + HotswapGroups.All.Count + Merges.All.Count;
            """));
    }

    [Fact]
    public void InvalidRuntimeArgumentsAreRefusedBeforeThePipelineIsCalled()
    {
        string source = """
            using System;
            using LoraSdk.Core;
            using LoraSdk.Typed;
            using Demo;
            public class Thrower : System.Reflection.DispatchProxy
            {
                protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args) =>
                    throw new InvalidOperationException("pipeline called: " + method!.Name);
            }
            public static class Use
            {
                public static string Run()
                {
                    var typed = System.Reflection.DispatchProxy.Create<ILoraPipeline, Thrower>().AssumeBaseModel<Sdxl>();
                    string Catch(Action a) { try { a(); return "no exception"; } catch (Exception e) { return e.GetType().Name + ": " + e.Message.Split('\n')[0]; } }
                    return string.Join("\n",
                        Catch(() => typed.AddWeightedAdapter("m", Adapters.Ikea.At(1).And(Adapters.Feng.At(1)), EqualRankCombination.Ties)),
                        Catch(() => typed.AddWeightedAdapter("m", Adapters.Ikea.At(1).And(Adapters.Feng.At(1)), EqualRankCombination.MagnitudePrune, density: 1.5)),
                        Catch(() => typed.AddWeightedAdapter("m", LoraMerge.Of(Adapters.Ikea.At(1)), AnyRankCombination.Svd, svdRank: 0)),
                        Catch(() => Adapters.Ikea.At(double.NaN)));
                }
            }
            """;
        var outcome = GeneratorHarness.Run(Inputs(), source);
        using var stream = new MemoryStream();
        var emit = outcome.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        string result = (string)System.Reflection.Assembly.Load(stream.ToArray()).GetType("Use")!.GetMethod("Run")!.Invoke(null, null)!;
        Assert.Equal(new[]
        {
            "ArgumentException: Combination type 'ties' needs a density in (0, 1]. (Parameter 'density')",
            "ArgumentOutOfRangeException: density must be in (0, 1]. (Parameter 'density')",
            "ArgumentOutOfRangeException: Merge 'm': svd_rank must be positive. (Parameter 'svdRank')",
            "ArgumentOutOfRangeException: The weight of adapter 'Ikea' must be finite. (Parameter 'weight')",
        }, result.Split('\n'));
    }

    /// <summary>An <see cref="LoraSdk.Typed.ILoraPipeline{TBase}"/> that records the string-API calls (and can fail the next load).</summary>
    private const string RecorderSource = """
        using System.Collections.Generic;
        using System.Linq;
        using LoraSdk.Core;
        using LoraSdk.Typed;

            public sealed class Recorder : ILoraPipeline<Sdxl>
            {
                public readonly List<string> Calls = new List<string>();
                private readonly HashSet<string> _loaded = new HashSet<string>();
                public bool FailNextLoad;
                public string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? weightName = null, string? prefix = null)
                {
                    if (FailNextLoad) { FailNextLoad = false; throw new System.InvalidOperationException("load failed"); }
                    Calls.Add($"load {path.Replace('\\', '/')} as {adapterName} hotswap={hotswap} prefix={prefix ?? "-"}");
                    _loaded.Add(adapterName!);
                    return adapterName!;
                }
                public void SetAdapters(IReadOnlyList<string> names, IReadOnlyList<double>? weights = null) =>
                    Calls.Add($"set {string.Join(",", names)} @ {string.Join(",", weights!.Select(w => w.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
                public void FuseLora(IReadOnlyList<string>? names = null, double loraScale = 1.0, bool safeFusing = false) =>
                    Calls.Add($"fuse {(names == null ? "active" : string.Join(",", names))} x{loraScale.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                public void UnfuseLora() { }
                public void EnableLoraHotswap(int targetRank) => Calls.Add($"enable_hotswap {targetRank}");
                public void DeleteAdapters(IReadOnlyList<string> names) => Calls.Add($"delete {string.Join(",", names)}");
                public void DisableLora() { }
                public void EnableLora() { }
                public void UnloadLoraWeights() { }
                public IReadOnlyList<string> GetActiveAdapters() => new string[0];
                public IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters() =>
                    new Dictionary<string, IReadOnlyList<string>> { ["unet"] = _loaded.ToList() };
                public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName, LoraMergeOptions o) =>
                    Calls.Add($"merge {adapterName} = {CombinationTypes.PeftName(o.CombinationType)}({string.Join(",", adapters)}; {string.Join(",", weights.Select(w => w.ToString(System.Globalization.CultureInfo.InvariantCulture)))}) density={o.Density?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} svd={o.SvdRank?.ToString() ?? "-"} sign={MajoritySignMethods.PeftName(o.MajoritySignMethod)} seed={o.Seed?.ToString() ?? "-"}");
                public string SaveLoraWeights(string saveDirectory, string adapterName, string? weightName = null) => saveDirectory;
            }

        """;

    /// <summary>Compiles <paramref name="source"/> with the recorder and the generated adapters, and returns <c>Use.Run()</c>.</summary>
    private static string CompileAndRun(string source)
    {
        var outcome = GeneratorHarness.Run(Inputs(), RecorderSource, source);
        Assert.DoesNotContain(outcome.CompilationErrors, d => d.Severity == DiagnosticSeverity.Error);
        using var stream = new MemoryStream();
        var emit = outcome.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return (string)System.Reflection.Assembly.Load(stream.ToArray()).GetType("Use")!.GetMethod("Run")!.Invoke(null, null)!;
    }

    [Fact]
    public void SlotCurrentIsTheAdapterInTheSlotAfterEveryHotswap()
    {
        string result = CompileAndRun("""
            using System.Collections.Generic;
            using LoraSdk.Typed;
            using Demo;

            public static class Use
            {
                public static string Run()
                {
                    var pipe = new Recorder();
                    var typed = pipe.Typed(a => "/models/" + a.RuntimePath);
                    var seen = new List<string>();
                    var slot = typed.EnableHotswap(HotswapGroups.Styles);
                    seen.Add(slot.Current.Name);                                  // the widest member
                    typed.Hotswap(HotswapGroups.Styles, Adapters.Feng);          // through the pipeline, not the slot
                    seen.Add(slot.Current.Name);
                    pipe.Typed().Hotswap(HotswapGroups.Styles, Adapters.Ikea);   // another typed view of the same pipeline
                    seen.Add(slot.Current.Name);
                    slot.Swap(Adapters.Feng);
                    seen.Add(slot.ToString());
                    pipe.FailNextLoad = true;                                    // a failed hotswap keeps the old adapter
                    try { slot.Swap(Adapters.Ikea); } catch (System.InvalidOperationException) { seen.Add("failed"); }
                    seen.Add(slot.Current.Name);
                    return string.Join(",", seen);
                }
            }
            """);
        Assert.Equal("Ikea,Feng,Ikea,Styles: Feng,failed,Feng", result);
    }

    [Fact]
    public void TypedCallsForwardToTheStringApiWithDiffusersArguments()
    {
        string source = """
            using System.Collections.Generic;
            using System.Linq;
            using LoraSdk.Typed;
            using Demo;

            public static class Use
            {
                public static string Run()
                {
                    var pipe = new Recorder();
                    var typed = pipe.Typed(a => "/models/" + a.RuntimePath);
                    typed.LoadLoraWeights(Adapters.Ikea);
                    typed.SetAdapters(Adapters.Ikea);
                    typed.SetAdapters(Adapters.Ikea.At(0.25), Merges.IkeaFeng.At(1.5));
                    var slot = typed.EnableHotswap(HotswapGroups.Styles);
                    slot.Swap(Adapters.Feng);
                    typed.AddWeightedAdapter(Merges.IkeaFeng);
                    typed.AddWeightedAdapter("eq", Adapters.Ikea.At(1).And(Adapters.Feng.At(0.5)), EqualRankCombination.DareTies, density: 0.3, seed: 9);
                    typed.FuseLora(Adapters.Ikea);
                    typed.FuseLora();
                    typed.DeleteAdapters(Adapters.Ikea, Adapters.Feng);
                    return string.Join("\n", pipe.Calls) + "\nslot=" + slot.Current.Name;
                }
            }
            """;
        string calls = CompileAndRun(source);
        Assert.Equal("""
            load /models/loras/aaaaaaaaaaaaaaaa/ikea.safetensors as Ikea hotswap=False prefix=-
            set Ikea @ 0.7
            set Ikea,IkeaFeng @ 0.25,1.5
            enable_hotswap 4
            load /models/loras/aaaaaaaaaaaaaaaa/ikea.safetensors as Styles hotswap=False prefix=-
            load /models/loras/aaaaaaaaaaaaaaaa/feng.safetensors as Styles hotswap=True prefix=unet
            load /models/loras/aaaaaaaaaaaaaaaa/feng.safetensors as Feng hotswap=False prefix=unet
            merge IkeaFeng = ties(Ikea,Feng; 1,0.5) density=0.5 svd=- sign=total seed=3
            merge eq = dare_ties(Ikea,Feng; 1,0.5) density=0.3 svd=- sign=total seed=9
            fuse Ikea x1
            fuse active x1
            delete Ikea,Feng
            slot=Feng
            """.Replace("\r\n", "\n"), calls);
    }
}
