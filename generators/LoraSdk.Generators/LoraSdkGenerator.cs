using System.Linq;
using LoraSdk.Generators.Binding;
using LoraSdk.Generators.Emission;
using LoraSdk.Generators.Model;
using LoraSdk.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators;

/// <summary>
/// Generates typed LoRA adapters from <c>adapters.manifest</c> and the header sidecars the LoraSdk build step writes
/// (AdditionalFiles; the generator never touches the safetensors files). Pipeline: classify inputs → parse each
/// manifest and each sidecar → collect sidecars → bind each manifest (checks LSDK002–015) → plan all manifests together
/// (collisions between manifests, LSDK016; unique hint names) → one source per adapter, group and merge plus a catalog
/// (none on C# older than 8: LSDK017). Every stage yields value-equal specs, so an unrelated edit is fully cached and an
/// edit of one adapter re-emits only that adapter.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class LoraSdkGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var inputs = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select((pair, _) => (Text: pair.Left, Role: InputRoles.Classify(pair.Left.Path, pair.Right.GetOptions(pair.Left))))
            .Where(input => input.Role != InputRole.None)
            .Select((input, ct) => new InputFile(input.Text.Path, input.Role, input.Text.GetText(ct)?.ToString() ?? ""))
            .WithTrackingName(TrackingNames.Inputs);

        var manifests = inputs
            .Where(input => input.Role == InputRole.Manifest)
            .Select((input, ct) => ManifestParser.Parse(input.Path, input.Text, ct))
            .WithTrackingName(TrackingNames.Manifest);

        var sidecars = inputs
            .Where(input => input.Role == InputRole.Sidecar)
            .Select((input, ct) => SidecarParser.Parse(input.Path, input.Text, ct))
            .WithTrackingName(TrackingNames.Sidecar)
            .Collect()
            .Select((all, _) => all.OrderBy(s => s.SidecarPath, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.Sidecars);

        var bound = manifests
            .Combine(sidecars)
            .Select((pair, ct) => ManifestBinder.Bind(pair.Left, pair.Right, ct))
            .WithTrackingName(TrackingNames.Bound);

        // All manifests together: cross-manifest collisions (LSDK016) and case-insensitively unique hint names.
        var plan = bound.Collect()
            .Select((all, ct) => GenerationPlanner.Plan(all, ct))
            .WithTrackingName(TrackingNames.Plan);

        var adapters = plan.SelectMany((p, _) => p.Adapters).WithTrackingName(TrackingNames.Adapter);
        var catalogs = plan.SelectMany((p, _) => p.Catalogs).WithTrackingName(TrackingNames.Catalog);
        var baseModels = plan.SelectMany((p, _) => p.BaseModels).WithTrackingName(TrackingNames.BaseModel);
        var groups = plan.SelectMany((p, _) => p.Groups).WithTrackingName(TrackingNames.HotswapGroup);
        var merges = plan.SelectMany((p, _) => p.Merges).WithTrackingName(TrackingNames.Merge);

        // The generated code needs C# 8 (LanguageSupport): on an older version one LSDK017 per manifest replaces the code.
        var languageVersion = context.ParseOptionsProvider.Select((options, _) => LanguageSupport.VersionOf(options));
        var languageSupported = languageVersion.Select((version, _) => LanguageSupport.IsSupported(version));
        var diagnostics = plan.SelectMany((p, _) => p.Diagnostics)
            .Combine(languageVersion)
            .Select((pair, _) => LanguageSupport.IsSupported(pair.Right) ? pair.Left.Diagnostics : LanguageSupport.WithTooOldDiagnostic(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Diagnostics);

        AddSources(context, adapters, languageSupported, Emitter.Emit);
        AddSources(context, catalogs, languageSupported, Emitter.Emit);
        AddSources(context, baseModels, languageSupported, Emitter.Emit);
        AddSources(context, groups, languageSupported, Emitter.Emit);
        AddSources(context, merges, languageSupported, Emitter.Emit);
        context.RegisterSourceOutput(diagnostics, (spc, list) =>
        {
            foreach (var diagnostic in list) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }

    /// <summary>One source per planned file, unless the C# version is too old for the generated code.</summary>
    private static void AddSources<TSpec>(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<GeneratedSource<TSpec>> sources,
        IncrementalValueProvider<bool> languageSupported, System.Func<TSpec, string> emit)
        where TSpec : System.IEquatable<TSpec>
    {
        context.RegisterSourceOutput(sources.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(pair.Left.HintName, emit(pair.Left.Spec));
        });
    }
}
