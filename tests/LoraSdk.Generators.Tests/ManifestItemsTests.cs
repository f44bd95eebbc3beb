using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// Which manifests a project reads (docs/generator.md, "Which manifests"): the <c>adapters.manifest</c> next to the
/// project by default, plus every <c>LoraSdkManifest</c> item, each file once; <c>EnableDefaultLoraSdkManifest=false</c>
/// drops the default; none = nothing to do; an item naming a missing file is a build error. Evaluated by MSBuild itself
/// (the build targets, then the generator on what they pass).
/// </summary>
[Collection(EndToEndCollection.Name)]
public class ManifestItemsTests
{
    private static void WriteProject(TempFolder temp, string items = "", string properties = "", string outputType = "Library")
    {
        string repo = RepoPaths.Root;
        string config = RepoPaths.Configuration;
        temp.Write("Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{repo}/generators/LoraSdk.Build/build/LoraSdk.Generators.props" />
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <LoraSdkTaskAssembly>{repo}/generators/LoraSdk.Build/bin/{config}/netstandard2.0/LoraSdk.Build.dll</LoraSdkTaskAssembly>
                <LoraSdkUseTaskHost>true</LoraSdkUseTaskHost>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="{repo}/runtime/LoraSdk.Typed/bin/{config}/netstandard2.0/LoraSdk.Typed.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Generators.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Core.dll" />
                {items}
              </ItemGroup>
              <Import Project="{repo}/generators/LoraSdk.Build/build/LoraSdk.Generators.targets" />
            </Project>
            """);
    }

    private static string Manifest(string ns, string lora) => $$"""
        { "namespace": "{{ns}}", "baseModel": "sd15",
          "adapters": [ { "name": "A", "file": {{LoraSdk.Core.JsonWriter.Quote(RepoPaths.Lora(lora))}}, "triggerWords": ["a"] } ] }
        """;

    /// <summary>The manifests MSBuild hands the compiler (AdditionalFiles with role Manifest) after the LoraSdk target.</summary>
    private static (int ExitCode, string[] Manifests, string Output) Manifests(TempFolder temp)
    {
        var (code, output) = DotnetCli.Run(temp.Path, TimeSpan.FromMinutes(3), "msbuild", "Consumer.csproj", "-nologo", "-nodeReuse:false",
            "-t:LoraSdkInspectAdapters", "-getItem:AdditionalFiles");
        if (code != 0) return (code, Array.Empty<string>(), output);
        using var json = JsonDocument.Parse(output);
        var manifests = json.RootElement.GetProperty("Items").GetProperty("AdditionalFiles").EnumerateArray()
            .Where(i => i.TryGetProperty("LoraSdkRole", out var role) && role.GetString() == "Manifest")
            .Select(i => Path.GetRelativePath(temp.Path, i.GetProperty("FullPath").GetString()!).Replace('\\', '/'))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToArray();
        return (code, manifests, output);
    }

    [Fact]
    public void TheDefaultManifestAndExplicitItemsAreReadEachOnce()
    {
        using var temp = new TempFolder("lorasdk-items-");
        temp.Write("adapters.manifest", Manifest("Demo.Default", "lora_c"));
        temp.Write("more/other.manifest", Manifest("Demo.Other", "lora_d"));

        // Nothing declared: the default manifest.
        WriteProject(temp);
        Assert.Equal(new[] { "adapters.manifest" }, Manifests(temp).Manifests);

        // An explicit item adds to the default (like Compile items and EnableDefaultCompileItems).
        WriteProject(temp, "<LoraSdkManifest Include=\"more/other.manifest\" />");
        Assert.Equal(new[] { "adapters.manifest", "more/other.manifest" }, Manifests(temp).Manifests);

        // Listing the default explicitly too, or twice, still reads it once.
        WriteProject(temp, "<LoraSdkManifest Include=\"adapters.manifest;more/other.manifest\" /><LoraSdkManifest Include=\"$(MSBuildProjectDirectory)/adapters.manifest\" />");
        Assert.Equal(new[] { "adapters.manifest", "more/other.manifest" }, Manifests(temp).Manifests);

        // EnableDefaultLoraSdkManifest=false: only the explicit items.
        WriteProject(temp, "<LoraSdkManifest Include=\"more/other.manifest\" />", "<EnableDefaultLoraSdkManifest>false</EnableDefaultLoraSdkManifest>");
        Assert.Equal(new[] { "more/other.manifest" }, Manifests(temp).Manifests);
    }

    [Fact]
    public void NoManifestMeansNothingToDo()
    {
        using var temp = new TempFolder("lorasdk-items-");
        WriteProject(temp);
        temp.Write("C.cs", "public static class C { }");
        Assert.Empty(Manifests(temp).Manifests);
        var (code, output) = DotnetCli.Build(temp.Path);
        Assert.True(code == 0, output);
        Assert.Contains("0 Warning(s)", output);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "obj", "Debug", "net10.0", "lorasdk")), "the build step ran without a manifest");
    }

    [Fact]
    public void AMissingManifestItemIsABuildError()
    {
        using var temp = new TempFolder("lorasdk-items-");
        WriteProject(temp, "<LoraSdkManifest Include=\"missing/other.manifest\" />");
        var (code, _, output) = Manifests(temp);
        Assert.NotEqual(0, code);
        Assert.Contains($"error LSDKBUILD: The LoraSdkManifest item '{temp.File("missing/other.manifest")}' does not exist", output);
    }

    [Fact]
    public void TheDefaultAndAnExplicitManifestBothGenerate()
    {
        using var temp = new TempFolder("lorasdk-items-");
        temp.Write("adapters.manifest", Manifest("Demo.Default", "lora_c").Replace("\"sd15\"", TinySdxl()));
        temp.Write("more/other.manifest", Manifest("Demo.Other", "lora_d").Replace("\"sd15\"", TinySdxl()));
        WriteProject(temp, "<LoraSdkManifest Include=\"more/other.manifest\" />");
        temp.Write("C.cs", "public static class C { public static int Ranks => Demo.Default.Adapters.A.Rank + Demo.Other.Adapters.A.Rank; }");
        var (code, output) = DotnetCli.Build(temp.Path);
        Assert.True(code == 0, output);
        Assert.Contains("0 Warning(s)", output);
    }

    private static string TinySdxl()
    {
        string tiny = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");
        return "{ \"name\": \"TinySdxl\", \"architecture\": \"sdxl\", " +
               $"\"unetConfig\": {LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "unet", "config.json"))}, " +
               $"\"textEncoderConfig\": {LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "text_encoder", "config.json"))}, " +
               $"\"textEncoder2Config\": {LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "text_encoder_2", "config.json"))} }}";
    }
}
