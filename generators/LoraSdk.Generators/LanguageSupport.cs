using LoraSdk.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators;

/// <summary>
/// The C# version the generated code needs: 8.0 (<c>#nullable enable</c>, nullable annotations such as
/// <c>string?</c>, <c>??=</c>); every later version compiles it unchanged (LanguageVersionTests). A project on an
/// older version gets one LSDK017 per manifest and no generated code, instead of a page of CS8370 errors in files the
/// user cannot edit.
/// </summary>
internal static class LanguageSupport
{
    public const LanguageVersion Minimum = LanguageVersion.CSharp8;

    /// <summary>The compilation's C# version as a number (Default, Latest, Preview mapped by Roslyn).</summary>
    public static LanguageVersion VersionOf(ParseOptions options) =>
        options is CSharpParseOptions csharp ? csharp.LanguageVersion.MapSpecifiedToEffectiveVersion() : LanguageVersion.Latest.MapSpecifiedToEffectiveVersion();

    /// <summary>True when <paramref name="version"/> compiles the generated code.</summary>
    public static bool IsSupported(LanguageVersion version) => version >= Minimum;

    /// <summary>The manifest's diagnostics plus LSDK017 at its first character.</summary>
    public static EquatableArray<DiagnosticInfo> WithTooOldDiagnostic(ManifestDiagnostics manifest, LanguageVersion version) =>
        new EquatableArray<DiagnosticInfo>(manifest.Diagnostics.AsImmutableArray().Add(DiagnosticInfo.Create(
            DiagnosticDescriptors.LanguageVersionTooOld, new LocationInfo(manifest.ManifestPath, 0, 0, 0, 0, 0, 0),
            manifest.ManifestPath, Minimum.ToDisplayString(), version.ToDisplayString())));
}
