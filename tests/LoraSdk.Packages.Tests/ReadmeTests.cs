using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using LoraSdk.Packages.Tests.Infrastructure;

namespace LoraSdk.Packages.Tests;

/// <summary>
/// The README's shape: what the package consumer test runs and compiles is every C# snippet and CLI line there is.
/// (Compiling and running them happens in <see cref="PackageConsumerTests"/>.)
/// </summary>
public sealed class ReadmeTests
{
    private static readonly string ReadmePath = RepoPaths.Combine("README.md");

    [Fact]
    public void TheSetUpSectionHasExactlyTwoCommands()
    {
        var setUp = Assert.Single(Readme.Blocks(ReadmePath), b => b.Section.StartsWith("Set up", StringComparison.Ordinal));
        Assert.Equal(new[] { "dotnet run --project samples/Quickstart", "dotnet test LoraSdk.sln" }, Readme.Commands(setUp));
        // .ci/run runs the second one.
        Assert.Contains("dotnet test LoraSdk.sln", File.ReadAllText(RepoPaths.Combine(".ci", "run")), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCSharpSnippetIsCompiledOrAnExcerptOfCompiledCode()
    {
        var snippets = Readme.Blocks(ReadmePath).Where(b => b.Language == "csharp").ToList();
        Assert.True(snippets.Count >= 3);
        foreach (var snippet in snippets)
        {
            if (snippet.Directive is { } d && d.StartsWith("excerpt:", StringComparison.Ordinal))
            {
                // Every statement of the excerpt is a line of the compiled file (the sample builds with the solution), in
                // the file's order; "// …" lines mark omissions and a trailing comment is the README's own.
                var sourceLines = File.ReadAllLines(RepoPaths.Combine(d["excerpt:".Length..].Trim())).Select(l => StripComment(l)).ToList();
                int at = -1;
                foreach (var line in snippet.Code.Split('\n').Select(StripComment).Where(l => l.Length > 0))
                {
                    int found = sourceLines.FindIndex(at + 1, l => l == line);
                    Assert.True(found > at, $"README line {snippet.Line}+: '{line}' is not in {d} after the previous line");
                    at = found;
                }
            }
            else
            {
                // Compiled by the consumer app: its using directives must be there (ImplicitUsings is off there).
                string unit = Readme.ToCompilationUnit(snippet, "X");
                Assert.StartsWith("using LoraSdk.", unit, StringComparison.Ordinal);
            }
        }
    }

    private static string StripComment(string line)
    {
        int comment = line.IndexOf("//", StringComparison.Ordinal);
        return (comment >= 0 && !line[..comment].Contains('"') ? line[..comment] : line).Trim();
    }

    [Fact]
    public void JsonSnippetsParse()
    {
        foreach (var block in Readme.Blocks(ReadmePath).Where(b => b.Language == "json"))
            using (JsonDocument.Parse(block.Code)) { }
    }

    [Fact]
    public void CliLinesAreCommandsOfTheLorasdkTool()
    {
        var lines = PackageConsumerTests.ReadmeCliLines();
        Assert.True(lines.Count >= 3);
        Assert.Contains(lines, l => l[0] == "inspect" && l.Contains("--json"));
        Assert.DoesNotContain(lines, l => l.Any(w => w.StartsWith('[') || w.StartsWith('<')));
        Assert.Contains("<ToolCommandName>lorasdk</ToolCommandName>", File.ReadAllText(RepoPaths.Combine("runtime", "LoraSdk.Cli", "LoraSdk.Cli.csproj")), StringComparison.Ordinal);
    }
}
