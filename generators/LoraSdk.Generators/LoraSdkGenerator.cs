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
/// manifest and each sidecar → collect sidecars → bind (checks LSDK002–015) → one source per adapter, group and merge
/// plus a catalog; diagnostics from the binder. Every stage yields value-equal specs, so an unrelated edit is fully
/// cached and an edit of one adapter re-emits only that adapter.
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

        var adapters = bound.SelectMany((b, _) => b.Adapters).WithTrackingName(TrackingNames.Adapter);
        var catalogs = bound.Select((b, _) => b.Catalog).Where(c => c != null).Select((c, _) => c!).WithTrackingName(TrackingNames.Catalog);
        var baseModels = bound.Select((b, _) => b.BaseModel).Where(m => m != null).Select((m, _) => m!).WithTrackingName(TrackingNames.BaseModel);
        var groups = bound.SelectMany((b, _) => b.Groups).WithTrackingName(TrackingNames.HotswapGroup);
        var merges = bound.SelectMany((b, _) => b.Merges).WithTrackingName(TrackingNames.Merge);
        // The generated code needs C# 8 (LanguageSupport): on an older version one LSDK017 per manifest replaces the code.
        var languageVersion = context.ParseOptionsProvider.Select((options, _) => LanguageSupport.VersionOf(options));
        var languageSupported = languageVersion.Select((version, _) => LanguageSupport.IsSupported(version));
        var diagnostics = bound.Combine(languageVersion)
            .Select((pair, _) => LanguageSupport.IsSupported(pair.Right) ? pair.Left.Diagnostics : LanguageSupport.WithTooOldDiagnostic(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(adapters.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(Emitter.HintName(pair.Left), Emitter.Emit(pair.Left));
        });
        context.RegisterSourceOutput(catalogs.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(Emitter.HintName(pair.Left), Emitter.Emit(pair.Left));
        });
        context.RegisterSourceOutput(baseModels.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(Emitter.HintName(pair.Left), Emitter.Emit(pair.Left));
        });
        context.RegisterSourceOutput(groups.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(Emitter.HintName(pair.Left), Emitter.Emit(pair.Left));
        });
        context.RegisterSourceOutput(merges.Combine(languageSupported), (spc, pair) =>
        {
            if (pair.Right) spc.AddSource(Emitter.HintName(pair.Left), Emitter.Emit(pair.Left));
        });
        context.RegisterSourceOutput(diagnostics, (spc, list) =>
        {
            foreach (var diagnostic in list) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }
}
