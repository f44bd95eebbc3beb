using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// `dotnet build` of real projects: the TypedAdapters sample (generator + build task from source, the fixture LoRAs),
/// and a throw-away consumer with a broken manifest whose diagnostics must point at manifest lines.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class EndToEndTests
{
    [Fact]
    public void SampleBuildsWithDocumentedTypesAndRuns()
    {
        string project = RepoPaths.Combine("samples", "TypedAdapters");
        var (code, output) = DotnetCli.Build(project, "TypedAdapters.csproj", "-c", RepoPaths.Configuration);
        Assert.True(code == 0, output);
        Assert.Contains("0 Warning(s)", output);

        string bin = Path.Combine(project, "bin", RepoPaths.Configuration, "net10.0");
        // IntelliSense facts: the generated members carry XML docs (the compiler writes them to TypedAdapters.xml).
        string xml = File.ReadAllText(Path.Combine(bin, "TypedAdapters.xml"));
        Assert.Contains("<member name=\"P:TypedAdapters.Loras.Adapters.Ikea\">", xml);
        Assert.Contains("LoRA adapter <c>Ikea</c> (<c>lora_a.safetensors</c>) for <c>TinySdxl</c>: rank 4, alpha 8, scaling 2", xml);
        Assert.Contains("<member name=\"P:TypedAdapters.Loras.HotswapGroups.StylesGroup.TargetRank\">", xml);
        // Sidecars in obj/, adapter files copied next to the app.
        Assert.Equal(5, Directory.GetFiles(Path.Combine(project, "obj", RepoPaths.Configuration, "net10.0", "lorasdk"), "*.lorasdk.json", SearchOption.AllDirectories).Length);
        foreach (var name in new[] { "lora_a", "lora_a_kohya", "lora_b", "lora_c", "lora_d" })
            Assert.True(File.Exists(Path.Combine(bin, "loras", name + ".safetensors")), name);

        // The sample runs the typed API against the real SDXL host (embedded tiny model, TorchSharp on the CPU).
        string images = Path.Combine(bin, "out");
        if (Directory.Exists(images)) Directory.Delete(images, recursive: true);
        var (runCode, run) = DotnetCli.Run(bin, TimeSpan.FromMinutes(3), "TypedAdapters.dll");
        Assert.True(runCode == 0, run);
        Assert.Contains("6 adapters for TinySdxl:", run);
        Assert.Matches(new Regex(@"Feng\s+lora_b\.safetensors\s+rank 8 alpha 4 scaling 0\.5 peft\s+unet\[108\]"), run);
        Assert.Matches(new Regex(@"Ikea\s+lora_a\.safetensors\s+rank 4 alpha 8 scaling 2 peft\s+text_encoder\[20\] \+ text_encoder_2\[20\] \+ unet\[96\]"), run);
        Assert.Matches(new Regex(@"image base\.png: ""a living room"", active \[\], \d+ ms"), run);
        Assert.Contains("image ikea-feng.png: \"a living room, ikea style, flat pack, feng shui\", active [Ikea, Feng]", run);
        Assert.Contains("image ikea-fused.png: \"a living room, ikea style, flat pack\", active [Ikea, Feng]", run);
        Assert.Contains("image ikea-light-ties.png: \"a living room in soft light\", active [IkeaLight]", run);
        Assert.Contains("group Styles: target rank 4, load order IkeaUnet, Light, Subtle", run);
        Assert.Contains("image slot-IkeaUnet.png: \"a living room\", active [Styles]", run);
        Assert.Contains("image slot-Subtle.png: \"a living room, subtle detail\", active [Styles]", run);
        Assert.Contains("slot Styles: Light", run);

        // Seven 64×64 PNGs; the adapters change the image (hotswap included).
        string[] names = { "base", "ikea-feng", "ikea-fused", "ikea-light-ties", "slot-IkeaUnet", "slot-Subtle", "slot-Light" };
        var png = names.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(images, n + ".png")));
        foreach (var (name, bytes) in png)
        {
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), name);
            Assert.Equal(64, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(64, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        }
        Assert.Equal(names.Length, png.Values.Select(Convert.ToBase64String).Distinct().Count());
    }

    [Fact]
    public void BrokenManifestFailsTheBuildAtManifestLinesAndGlobalConfigRatesSeverities()
    {
        // Uses the outputs the sample build produced (same collection, so the builds do not overlap).
        var (code0, output0) = DotnetCli.Build(RepoPaths.Combine("samples", "TypedAdapters"), "TypedAdapters.csproj", "-c", RepoPaths.Configuration);
        Assert.True(code0 == 0, output0);
        using var temp = new TempFolder("lorasdk-consumer-");
        string repo = RepoPaths.Root;
        string config = RepoPaths.Configuration;
        temp.Write("Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{repo}/generators/LoraSdk.Build/build/LoraSdk.Generators.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <LoraSdkTaskAssembly>{repo}/generators/LoraSdk.Build/bin/{config}/netstandard2.0/LoraSdk.Build.dll</LoraSdkTaskAssembly>
                <LoraSdkUseTaskHost>true</LoraSdkUseTaskHost>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="{repo}/runtime/LoraSdk.Typed/bin/{config}/netstandard2.0/LoraSdk.Typed.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Generators.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Core.dll" />
              </ItemGroup>
              <Import Project="{repo}/generators/LoraSdk.Build/build/LoraSdk.Generators.targets" />
            </Project>
            """);
        temp.Write("C.cs", "class C { }");
        temp.Write("adapters.manifest", $$"""
            {
              "namespace": "Consumer.Loras",
              "baseModel": "sdxl",
              "adapters": [
                { "name": "Gone", "file": "loras/gone.safetensors" },
                { "name": "9bad", "file": "{{RepoPaths.Lora("lora_c")}}", "triggerWords": ["c"] },
                { "name": "NoWords", "file": "{{RepoPaths.Lora("lora_c")}}" }
              ]
            }
            """);
        var (code, output) = DotnetCli.Build(temp.Path);
        Assert.NotEqual(0, code);
        string manifest = temp.File("adapters.manifest");
        Assert.Contains($"{manifest}(5,31): error LSDK002: Adapter 'Gone': file 'loras/gone.safetensors' was not found at '{temp.File("loras/gone.safetensors")}'", output);
        Assert.Contains($"{manifest}(6,15): error LSDK011: Adapter name '9bad' is not a valid C# identifier", output);
        Assert.Contains($"{manifest}(7,15): warning LSDK012: Adapter 'NoWords' has no trigger words", output);
        // The tiny-SDXL LoRA does not fit the real SDXL UNet.
        Assert.Contains($"{manifest}(7,34): error LSDK006: Adapter 'NoWords': 48 layer(s) do not fit the base model", output);

        // Diagnostics located in the manifest (not a source file) are rated by .globalconfig (roslyn#55921: .editorconfig
        // sections apply to source files only), like any compiler diagnostic.
        temp.Write(".globalconfig", "is_global = true\ndotnet_diagnostic.LSDK012.severity = none\ndotnet_diagnostic.LSDK006.severity = warning\n");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("""{ "name": "Gone", "file": "loras/gone.safetensors" },""", "").Replace("9bad", "Good"));
        var (code2, output2) = DotnetCli.Build(temp.Path);
        Assert.True(code2 == 0, output2);
        Assert.DoesNotContain("LSDK012", output2);
        Assert.Contains("warning LSDK006: Adapter 'NoWords'", output2);

        // The same works from an .editorconfig marked global (its [section] entries would not reach the manifest).
        File.Delete(temp.File(".globalconfig"));
        temp.Write(".editorconfig", "is_global = true\ndotnet_diagnostic.LSDK012.severity = none\ndotnet_diagnostic.LSDK006.severity = none\n");
        var (code3, output3) = DotnetCli.Build(temp.Path);
        Assert.True(code3 == 0, output3);
        Assert.DoesNotContain("LSDK012", output3);
        Assert.DoesNotContain("LSDK006", output3);
    }
}

/// <summary>End-to-end builds share the repository's outputs: run them one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class EndToEndCollection
{
    public const string Name = "End-to-end builds";
}
