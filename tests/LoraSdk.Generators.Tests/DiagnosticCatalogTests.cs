using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// Every diagnostic descriptor is one public contract: a unique ID (one meaning, one default severity), a help link
/// into docs/diagnostics.md where a section explains its cause, an example and the fix, a row in the analyzer release
/// tracking file and a row in the table of docs/generator.md.
/// </summary>
public class DiagnosticCatalogTests
{
    private static readonly IReadOnlyList<DiagnosticDescriptor> Descriptors = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToList();

    private static string Read(params string[] path) => File.ReadAllText(RepoPaths.Combine(path)).Replace("\r\n", "\n");

    /// <summary>The sections of docs/diagnostics.md: heading ID → section text.</summary>
    private static Dictionary<string, string> DocSections()
    {
        var text = Read("docs", "diagnostics.md");
        var matches = Regex.Matches(text, @"^## (LSDK\d{3})\s*$", RegexOptions.Multiline);
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < matches.Count; i++)
        {
            int start = matches[i].Index;
            int end = i + 1 < matches.Count ? matches[i + 1].Index : text.Length;
            Assert.True(sections.TryAdd(matches[i].Groups[1].Value, text.Substring(start, end - start)), $"two sections for {matches[i].Groups[1].Value}");
        }
        return sections;
    }

    [Fact]
    public void EveryIdHasExactlyOneDescriptor()
    {
        Assert.True(Descriptors.Count >= 17, $"only {Descriptors.Count} descriptors found");
        var duplicates = Descriptors.GroupBy(d => d.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "IDs with more than one descriptor: " + string.Join(", ", duplicates));
        Assert.All(Descriptors, d =>
        {
            Assert.Matches(@"^LSDK\d{3}$", d.Id);
            Assert.Equal("LoraSdk", d.Category);
            Assert.True(d.IsEnabledByDefault, d.Id);
        });
        // The IDs are contiguous: no gap where a retired ID could be reused by mistake.
        Assert.Equal(Enumerable.Range(1, Descriptors.Count).Select(i => $"LSDK{i:D3}"), Descriptors.Select(d => d.Id).OrderBy(id => id, StringComparer.Ordinal));
    }

    [Fact]
    public void EveryDescriptorLinksToItsSectionOfTheDiagnosticsPage()
    {
        var sections = DocSections();
        foreach (var d in Descriptors)
        {
            Assert.Equal($"{DiagnosticDescriptors.HelpLinkBase}#{d.Id.ToLowerInvariant()}", d.HelpLinkUri);
            Assert.True(sections.TryGetValue(d.Id, out var section), $"docs/diagnostics.md has no section '## {d.Id}'");
            Assert.Contains($"**{d.Title}**", section);
            Assert.Contains($"Severity: {d.DefaultSeverity.ToString().ToLowerInvariant()}", section);
            foreach (var part in new[] { "Cause", "Example", "Fix" })
                Assert.True(Regex.IsMatch(section, $@"^\*\*{part}\.?\*\*", RegexOptions.Multiline), $"{d.Id}: no '**{part}**' paragraph");
        }
        Assert.Equal(Descriptors.Select(d => d.Id).OrderBy(id => id), sections.Keys.OrderBy(id => id));
        // The link's path is the page these tests read.
        Assert.Equal("docs/diagnostics.md", DiagnosticDescriptors.HelpLinkBase.Substring(DiagnosticDescriptors.HelpLinkBase.Length - "docs/diagnostics.md".Length));
    }

    [Fact]
    public void ReleaseTrackingAndTheGeneratorDocsListEveryDescriptor()
    {
        var rows = Read("generators", "LoraSdk.Generators", "AnalyzerReleases.Unshipped.md").Split('\n')
            .Where(l => l.StartsWith("LSDK", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .ToList();
        Assert.Equal(Descriptors.Select(d => d.Id).OrderBy(id => id), rows.Select(r => r[0]).OrderBy(id => id));
        foreach (var d in Descriptors)
        {
            var row = rows.Single(r => r[0] == d.Id);
            Assert.Equal((d.Category, d.DefaultSeverity.ToString()), (row[1], row[2]));
        }

        var table = Read("docs", "generator.md").Split('\n').Where(l => Regex.IsMatch(l, @"^\| \[?LSDK\d{3}")).ToList();
        foreach (var d in Descriptors)
        {
            var line = Assert.Single(table, l => l.Contains(d.Id + "]", StringComparison.Ordinal) || l.StartsWith($"| {d.Id} ", StringComparison.Ordinal));
            Assert.Contains($"| {d.DefaultSeverity.ToString().ToLowerInvariant()} |", line);
        }
    }
}
