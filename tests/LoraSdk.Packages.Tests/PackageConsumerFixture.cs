using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using LoraSdk.Packages.Tests.Infrastructure;

namespace LoraSdk.Packages.Tests;

/// <summary>
/// Does the slow part once for <see cref="PackageConsumerTests"/>, all in a temporary folder (nothing is written to
/// the repository, and the repository's bin/obj are not shared with builds other tests run at the same time):
/// copies the sources of the packable projects, packs them (one <c>dotnet pack</c> of one solution) into a folder
/// feed, writes a new console app that references LoraSdk.Diffusion + LoraSdk.Generators + libtorch-cpu-linux-x64 from
/// that feed, with an adapters.manifest of one adapter and the README's C# snippets as source files, builds it (one
/// restore), and installs the tool LoraSdk.Cli from the feed into a tool path. Packages are restored into a private
/// packages folder, so the packages under test never mix with the user's NuGet cache.
/// </summary>
public sealed class PackageConsumerFixture : IDisposable
{
    public const string Version = "0.0.0-consumer.1";
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);

    public PackageConsumerFixture()
    {
        Work = Directory.CreateTempSubdirectory("lorasdk-consumer-").FullName;
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        Environment_ = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(Work, "packages") };
        try
        {
            var total = Stopwatch.StartNew();
            Pack();
            Timings["pack"] = total.Elapsed;
            WriteApp(globalPackages);
            var build = Step(App, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");
            BuildLog = build.All;
            Timings["app build (restore + build)"] = build.Elapsed;
            var tool = Step(Work, "tool", "install", "LoraSdk.Cli", "--tool-path", ToolPath, "--add-source", Feed, "--version", Version);
            Timings["tool install"] = tool.Elapsed;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The temporary folder holding everything.</summary>
    public string Work { get; }

    /// <summary>The folder feed with the packed packages.</summary>
    public string Feed => Path.Combine(Work, "feed");

    /// <summary>The consumer app's project folder.</summary>
    public string App => Path.Combine(Work, "app");

    /// <summary>Where the tool is installed (<c>lorasdk</c> in it).</summary>
    public string ToolPath => Path.Combine(Work, "tools");

    /// <summary>The private packages folder (NUGET_PACKAGES) for restores and tool installs.</summary>
    public IReadOnlyDictionary<string, string> Environment_ { get; }

    /// <summary>The build output of the app.</summary>
    public string BuildLog { get; } = "";

    /// <summary>How long each step took.</summary>
    public Dictionary<string, TimeSpan> Timings { get; } = new();

    public IReadOnlyList<string> PackageFiles => Directory.GetFiles(Feed).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToList()!;

    public Processes.Result Step(string workingDirectory, params string[] arguments)
    {
        var result = Processes.Dotnet(workingDirectory, Long, Environment_, arguments);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"dotnet {string.Join(" ", arguments)} failed ({result.ExitCode}):\n{Tail(result.All)}");
        return result;
    }

    public void Dispose()
    {
        try { Directory.Delete(Work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void Pack()
    {
        string src = Path.Combine(Work, "src");
        foreach (var folder in new[] { "runtime", "generators", "build", Path.Combine("docs", "packages") })
            CopyTree(RepoPaths.Combine(folder), Path.Combine(src, folder));
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", ".editorconfig" })
            File.Copy(RepoPaths.Combine(file), Path.Combine(src, file));
        var projects = new[]
        {
            "runtime/LoraSdk.Core/LoraSdk.Core.csproj", "runtime/LoraSdk.Typed/LoraSdk.Typed.csproj", "runtime/LoraSdk/LoraSdk.csproj",
            "runtime/LoraSdk.Diffusion/LoraSdk.Diffusion.csproj", "generators/LoraSdk.Build/LoraSdk.Build.csproj",
            "generators/LoraSdk.Generators/LoraSdk.Generators.csproj", "runtime/LoraSdk.Cli/LoraSdk.Cli.csproj",
        };
        Step(src, "new", "sln", "--name", "Packages", "--format", "sln");
        Step(src, new[] { "sln", "Packages.sln", "add" }.Concat(projects).ToArray());
        // The copy is not a git repository: no source link there (the repository's own packs have it).
        Step(src, "pack", "Packages.sln", "-c", "Release", "-o", Feed, "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false",
            "-p:Version=" + Version, "-p:ContinuousIntegrationBuild=false", "-p:EnableSourceLink=false");
    }

    private void WriteApp(string globalPackages)
    {
        Directory.CreateDirectory(App);
        // Sources: the feed under test, the machine's package cache as a folder source (third-party packages
        // without a download), and nuget.org for anything missing.
        File.WriteAllText(Path.Combine(Work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="feed" value="{Feed}" />
                <add key="cache" value="{globalPackages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(App, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- An unreachable nuget.org is no error: the feed and the local cache hold everything. -->
                <WarningsNotAsErrors>NU1801</WarningsNotAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="LoraSdk.Diffusion" Version="{Version}" />
                <PackageReference Include="LoraSdk.Generators" Version="{Version}" />
                <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
              </ItemGroup>
            </Project>
            """);
        // The embedded tiny model and fixture LoRAs, where the README's first snippet expects them.
        CopyTree(RepoPaths.Combine("models", "tiny-sdxl-prompt"), Path.Combine(App, "models", "tiny-sdxl-prompt"));
        foreach (var name in new[] { "lora_a", "lora_b" })
            CopyFile(RepoPaths.Combine("tests", "fixtures", "loras", name + ".safetensors"), Path.Combine(App, "tests", "fixtures", "loras", name + ".safetensors"));
        foreach (var component in new[] { "unet", "text_encoder", "text_encoder_2" })
            CopyFile(RepoPaths.Combine("tests", "fixtures", "tiny-sdxl", component, "config.json"), Path.Combine(App, "base", component, "config.json"));
        File.WriteAllText(Path.Combine(App, "adapters.manifest"), """
            {
              "namespace": "Consumer.Loras",
              "baseModel": {
                "name": "TinySdxl",
                "unetConfig": "base/unet/config.json",
                "textEncoderConfig": "base/text_encoder/config.json",
                "textEncoder2Config": "base/text_encoder_2/config.json",
                "architecture": "sdxl"
              },
              "adapters": [
                { "name": "Ikea", "file": "tests/fixtures/loras/lora_a.safetensors", "triggerWords": ["ikea style"], "defaultWeight": 0.8 }
              ]
            }
            """);
        File.WriteAllText(Path.Combine(App, "Program.cs"), """
            using System;
            using System.IO;
            using Consumer.Loras;
            using LoraSdk.Diffusion.Lora;
            using LoraSdk.Diffusion.Pipelines;
            using LoraSdk.Typed;

            TorchSharp.torch.set_num_threads(1);
            if (args.Length == 1 && args[0] == "readme")
            {
                ReadmeSnippet1.Run();
                Console.WriteLine("README snippet 1 ran");
                return 0;
            }
            using var pipe = StableDiffusionXLPipeline.FromPretrained("models/tiny-sdxl-prompt");
            TypedLoraPipeline<TinySdxl> lora = pipe.AssumeBaseModel<TinySdxl>();
            lora.LoadLoraWeights(Adapters.Ikea);
            lora.SetAdapters(Adapters.Ikea.At(0.8));
            using var image = pipe.Generate(new StableDiffusionXLCallOptions
            {
                Prompt = "a living room, " + Adapters.Ikea.TriggerPrompt,
                NumInferenceSteps = 2,
                Height = 64,
                Width = 64,
                Seed = 1000,
            });
            string png = Path.Combine("out", "typed.png");
            image.SavePng(png);
            Console.WriteLine($"typed adapter {Adapters.Ikea.Name} rank {Adapters.Ikea.Rank}: active [{string.Join(", ", lora.Pipeline.GetActiveAdapters())}], wrote {png}");
            return 0;
            """);
        int n = 0;
        foreach (var snippet in Readme.Blocks(RepoPaths.Combine("README.md")).Where(b => b.Language == "csharp" && b.Directive?.StartsWith("excerpt:", StringComparison.Ordinal) != true))
        {
            n++;
            File.WriteAllText(Path.Combine(App, $"ReadmeSnippet{n}.cs"), Readme.ToCompilationUnit(snippet, $"ReadmeSnippet{n}"));
        }
        SnippetCount = n;
    }

    /// <summary>README C# snippets compiled into the app (ReadmeSnippet1.cs …).</summary>
    public int SnippetCount { get; private set; }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Any(p => p is "bin" or "obj")) continue;
            CopyFile(file, Path.Combine(to, relative));
        }
    }

    private static void CopyFile(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}
