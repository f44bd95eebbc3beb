using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using LoraSdk.Packages.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LoraSdk.Packages.Tests;

/// <summary>
/// The packed packages installed the way a user installs them (see <see cref="PackageConsumerFixture"/>): a new
/// console app outside the repository builds from the feed and generates an image with a typed adapter, gets the
/// Debian-12-patched TorchSharp shim in its build and publish output without any setting, compiles and runs the
/// README's C# snippets; the tool installs from the feed and runs the README's CLI lines.
/// </summary>
public sealed class PackageConsumerTests : IClassFixture<PackageConsumerFixture>
{
    private const string WeakGlibcxx = "GLIBCXX_3.4.32";
    private static readonly TimeSpan Minutes = TimeSpan.FromMinutes(5);
    private readonly PackageConsumerFixture _f;
    private readonly ITestOutputHelper _log;

    public PackageConsumerTests(PackageConsumerFixture fixture, ITestOutputHelper log)
    {
        _f = fixture;
        _log = log;
        foreach (var (step, time) in fixture.Timings) log.WriteLine($"{step}: {time.TotalSeconds:0.0} s");
    }

    /// <summary>The README's CLI lines (section "CLI", <c>dotnet run --project runtime/LoraSdk.Cli -- …</c>) as tool arguments.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> ReadmeCliLines()
    {
        const string prefix = "dotnet run --project runtime/LoraSdk.Cli --";
        var lines = new List<IReadOnlyList<string>>();
        foreach (var block in Readme.Blocks(RepoPaths.Combine("README.md")).Where(b => b.Section == "CLI" && b.Language == "bash"))
            foreach (var command in Readme.Commands(block).Where(c => c.StartsWith(prefix, StringComparison.Ordinal)))
                lines.Add(Readme.Words(command[prefix.Length..]));
        return lines;
    }

    [Fact]
    public void EveryPackageIsInTheFeedWithItsMetadata()
    {
        string[] ids = { "LoraSdk", "LoraSdk.Cli", "LoraSdk.Core", "LoraSdk.Diffusion", "LoraSdk.Generators", "LoraSdk.Typed" };
        foreach (var id in ids)
        {
            string package = Path.Combine(_f.Feed, $"{id}.{PackageConsumerFixture.Version}.nupkg");
            Assert.True(File.Exists(package), id + " was not packed: " + string.Join(", ", _f.PackageFiles));
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), id + " has no symbol package");
            _log.WriteLine($"{Path.GetFileName(package)}: {new FileInfo(package).Length / 1024.0:0} KiB");
            using var zip = ZipFile.OpenRead(package);
            string nuspec = new StreamReader(zip.GetEntry(id + ".nuspec")!.Open()).ReadToEnd();
            Assert.Contains("<license type=\"expression\">MIT</license>", nuspec, StringComparison.Ordinal);
            Assert.True(nuspec.Contains("<readme>README.md</readme>", StringComparison.Ordinal), id + " has no readme");
            Assert.Matches("<description>.{40,}</description>", nuspec);
            Assert.Contains("<tags>lora ", nuspec, StringComparison.Ordinal);
            Assert.NotNull(zip.GetEntry("README.md"));
        }
        using (var engine = ZipFile.OpenRead(Path.Combine(_f.Feed, $"LoraSdk.{PackageConsumerFixture.Version}.nupkg")))
            Assert.NotNull(engine.GetEntry("buildTransitive/LoraSdk.targets"));
        using var tool = ZipFile.OpenRead(Path.Combine(_f.Feed, $"LoraSdk.Cli.{PackageConsumerFixture.Version}.nupkg"));
        string settings = new StreamReader(tool.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open()).ReadToEnd();
        Assert.Contains("<Command Name=\"lorasdk\" EntryPoint=\"LoraSdk.Cli.dll\"", settings, StringComparison.Ordinal);
        string shim = Path.Combine(_f.Work, "tool-shim.so");
        tool.GetEntry("tools/net10.0/any/runtimes/linux-x64/native/libLibTorchSharp.so")!.ExtractToFile(shim, overwrite: true);
        Assert.Equal(2, ElfVersionNeeds.Flags(shim, WeakGlibcxx)! & 2); // the tool ships the patched shim
    }

    [Fact]
    public void TheConsumerAppGeneratesAnImageWithATypedAdapter()
    {
        var run = Processes.Run("dotnet", new[] { Path.Combine(_f.App, "bin", "Release", "net10.0", "App.dll") }, _f.App, Minutes);
        Assert.True(run.ExitCode == 0, run.All);
        _log.WriteLine(run.Output);
        Assert.Contains("typed adapter Ikea rank 4", run.Output, StringComparison.Ordinal);
        AssertPng(Path.Combine(_f.App, "out", "typed.png"));
        // The adapter file was copied next to the app by the package's build step, and the shim was patched.
        Assert.True(File.Exists(Path.Combine(_f.App, "bin", "Release", "net10.0", "loras", "lora_a.safetensors"))
                    || Directory.EnumerateFiles(Path.Combine(_f.App, "bin", "Release", "net10.0"), "lora_a.safetensors", SearchOption.AllDirectories).Any());
        AssertPatched(Path.Combine(_f.App, "bin", "Release", "net10.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
    }

    [Fact]
    public void PublishOutputGetsThePatchedShimToo()
    {
        string publish = Path.Combine(_f.Work, "publish");
        _f.Step(_f.App, "publish", "-c", "Release", "-o", publish, "--no-build", "-nologo");
        AssertPatched(Path.Combine(publish, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
    }

    [Fact]
    public void TheReadmeCSharpSnippetsCompileAgainstThePackagesAndTheFirstOneRuns()
    {
        Assert.True(_f.SnippetCount >= 2, "README snippets compiled: " + _f.SnippetCount);
        var run = Processes.Run("dotnet", new[] { Path.Combine(_f.App, "bin", "Release", "net10.0", "App.dll"), "readme" }, _f.App, Minutes);
        Assert.True(run.ExitCode == 0, run.All);
        AssertPng(Path.Combine(_f.App, "out", "bears.png"));
    }

    [Fact]
    public void TheToolInstallsAsLorasdkAndRuns()
    {
        var help = Tool(_f.Work, "--help");
        Assert.True(help.ExitCode == 0, help.All);
        foreach (var command in new[] { "generate", "inspect", "tokenize" }) Assert.Contains("  " + command, help.Output, StringComparison.Ordinal);
        var inspect = Tool(_f.Work, "inspect", RepoPaths.Combine("tests", "fixtures", "loras", "lora_a_kohya.safetensors"), "--json");
        Assert.True(inspect.ExitCode == 0, inspect.All);
        using var json = JsonDocument.Parse(inspect.Output);
        Assert.Equal("kohya", json.RootElement.GetProperty("format").GetString());
        var version = Tool(_f.Work, "--version");
        Assert.StartsWith(PackageConsumerFixture.Version, version.Output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheReadmeCliLinesRunWithTheInstalledTool()
    {
        string outputs = Path.Combine(_f.Work, "readme-out");
        foreach (var line in ReadmeCliLines())
        {
            // Run from the repository root like the README; outputs under out/ go to the temporary folder instead.
            var args = line.Select(w => w.StartsWith("out/", StringComparison.Ordinal) ? Path.Combine(outputs, w[4..]) : w).ToArray();
            var result = Tool(RepoPaths.Root, args);
            Assert.True(result.ExitCode == 0, $"lorasdk {string.Join(" ", line)}\n{result.All}");
            if (args.Contains("--json")) using (JsonDocument.Parse(result.Output)) { }
        }
        AssertPng(Path.Combine(outputs, "bears.png"));
    }

    private Processes.Result Tool(string workingDirectory, params string[] args) =>
        Processes.Run(Path.Combine(_f.ToolPath, "lorasdk"), args, workingDirectory, Minutes, _f.Environment_);

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path + " was not written");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 100);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8).ToArray());
    }

    private static void AssertPatched(string shim)
    {
        Assert.True(File.Exists(shim), shim + " is missing");
        int? flags = ElfVersionNeeds.Flags(shim, WeakGlibcxx);
        Assert.True(flags is int f && (f & 2) != 0, $"{shim}: {WeakGlibcxx} is not marked weak (flags {flags})");
    }
}
