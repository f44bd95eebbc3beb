using System.Linq;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>Assertions on generator diagnostics located in the manifest.</summary>
internal static class DiagnosticAssert
{
    /// <summary>Every diagnostic has <paramref name="id"/>; returns them.</summary>
    public static Diagnostic[] Only(GeneratorOutcome outcome, string id, int count = 1)
    {
        Assert.True(outcome.GeneratorDiagnostics.All(d => d.Id == id) && outcome.GeneratorDiagnostics.Length == count,
            $"expected {count} × {id}, got:\n{outcome.Describe()}");
        return outcome.GeneratorDiagnostics.ToArray();
    }

    /// <summary>No diagnostic with <paramref name="id"/>.</summary>
    public static void None(GeneratorOutcome outcome, string id) =>
        Assert.False(outcome.GeneratorDiagnostics.Any(d => d.Id == id), $"unexpected {id}:\n{outcome.Describe()}");

    /// <summary>
    /// The diagnostic is in the manifest (<paramref name="path"/>, default <see cref="GeneratorHarness.ManifestPath"/>) at
    /// 1-based <paramref name="line"/>, covering exactly <paramref name="token"/>.
    /// </summary>
    public static void At(Diagnostic diagnostic, string manifest, int line, string token, string path = GeneratorHarness.ManifestPath)
    {
        Assert.True(diagnostic.Location.Kind == LocationKind.ExternalFile, $"{diagnostic.Id} is not located in a file: {diagnostic}");
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal(path, span.Path);
        Assert.Equal(line, span.StartLinePosition.Line + 1);
        var text = manifest.Replace("\r\n", "\n");
        Assert.Equal(token, text.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        int lineStart = text.Split('\n').Take(line - 1).Sum(l => l.Length + 1);
        Assert.Equal(diagnostic.Location.SourceSpan.Start - lineStart, span.StartLinePosition.Character);
    }
}
