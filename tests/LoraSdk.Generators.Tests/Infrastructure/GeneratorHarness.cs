using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>Runs the generator on in-memory inputs and compiles the result against .NET 10 + LoraSdk.Typed.</summary>
internal static class GeneratorHarness
{
    public const string ManifestPath = "/project/adapters.manifest";

    public static readonly CSharpParseOptions ParseOptions = new CSharpParseOptions(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new Lazy<ImmutableArray<MetadataReference>>(() =>
        Net100.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(LoraSdk.Typed.LoraAdapter).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(LoraSdk.Core.ILoraPipeline).Assembly.Location))
            .ToImmutableArray());

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    public static CSharpCompilation Compilation(params string[] sources) => Compilation(ParseOptions, sources);

    public static CSharpCompilation Compilation(CSharpParseOptions parseOptions, params string[] sources) =>
        CSharpCompilation.Create("TestAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parseOptions, path: $"/project/Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: parseOptions.LanguageVersion.MapSpecifiedToEffectiveVersion() >= LanguageVersion.CSharp8
                    ? NullableContextOptions.Enable
                    : NullableContextOptions.Disable));

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> additionalTexts, TestOptionsProvider? options = null,
        CSharpParseOptions? parseOptions = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new LoraSdkGenerator().AsSourceGenerator() },
            additionalTexts,
            parseOptions ?? ParseOptions,
            options ?? new TestOptionsProvider(),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once: a manifest plus sidecars (path → text).</summary>
    public static GeneratorOutcome Run(string manifest, IEnumerable<SidecarJson> sidecars, params string[] sources) =>
        Run(Inputs(manifest, sidecars), sources);

    public static GeneratorOutcome Run(IEnumerable<AdditionalText> texts, params string[] sources) => Run(texts, ParseOptions, sources);

    /// <summary>Runs the generator with the given parse options (language version, documentation mode) for every tree.</summary>
    public static GeneratorOutcome Run(IEnumerable<AdditionalText> texts, CSharpParseOptions parseOptions, params string[] sources)
    {
        var driver = CreateDriver(texts, parseOptions: parseOptions);
        var compilation = Compilation(parseOptions, sources);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new GeneratorOutcome(driver, output, generatorDiagnostics);
    }

    public static List<AdditionalText> Inputs(string manifest, IEnumerable<SidecarJson> sidecars)
    {
        var texts = new List<AdditionalText> { new InMemoryAdditionalText(ManifestPath, manifest) };
        int i = 0;
        foreach (var sidecar in sidecars)
            texts.Add(new InMemoryAdditionalText($"/project/obj/lorasdk/adapters.manifest-00000000/{sidecar.FileName}-{i++}.lorasdk.json", sidecar.ToJson()));
        return texts;
    }

    /// <summary>A sidecar for <see cref="ManifestPath"/>.</summary>
    public static SidecarJson Sidecar(string file) => SidecarJson.For(ManifestPath, file);
}

/// <summary>The result of one generator run.</summary>
internal sealed class GeneratorOutcome
{
    public GeneratorOutcome(GeneratorDriver driver, Compilation compilation, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        Driver = driver;
        Compilation = compilation;
        GeneratorDiagnostics = generatorDiagnostics;
        Result = driver.GetRunResult().Results.Single();
    }

    public GeneratorDriver Driver { get; }

    public Compilation Compilation { get; }

    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    public GeneratorRunResult Result { get; }

    /// <summary>Generated sources, ordered by hint name.</summary>
    public IReadOnlyList<GeneratedSourceResult> Sources => Result.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal).ToList();

    /// <summary>Every generated file in one text (hint-name order) for snapshots.</summary>
    public string AllSources => string.Join("\n", Sources.Select(s => $"//----- {s.HintName} -----\n{s.SourceText}"));

    /// <summary>Errors and warnings of the compilation including the generated code (not the generator's own diagnostics).</summary>
    public IReadOnlyList<Diagnostic> CompilationErrors =>
        Compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();

    public IReadOnlyList<Diagnostic> Diagnostics(string id) => GeneratorDiagnostics.Where(d => d.Id == id).ToList();

    public string Describe() => string.Join("\n", GeneratorDiagnostics.Select(d => d.ToString()));
}
