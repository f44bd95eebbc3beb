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
        {
            string sha = Sha256(RepoPaths.Lora(name));
            Assert.True(File.Exists(Path.Combine(bin, "loras", sha.Substring(0, 16), name + ".safetensors")), name);
        }

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

    /// <summary>A consumer project on the repository's build outputs (generator, task, typed base types), like the package wires it.</summary>
    private static void WriteConsumer(TempFolder temp, string outputType)
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
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="{repo}/runtime/LoraSdk.Typed/bin/{config}/netstandard2.0/LoraSdk.Typed.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Generators.dll" />
                <Analyzer Include="{repo}/generators/LoraSdk.Generators/bin/{config}/netstandard2.0/LoraSdk.Core.dll" />
              </ItemGroup>
              <Import Project="{repo}/generators/LoraSdk.Build/build/LoraSdk.Generators.targets" />
            </Project>
            """);
    }

    private static string TinySdxlBaseModel()
    {
        string tiny = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");
        return $$"""
            { "name": "TinySdxl", "architecture": "sdxl",
                "unetConfig": {{LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "unet", "config.json"))}},
                "textEncoderConfig": {{LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "text_encoder", "config.json"))}},
                "textEncoder2Config": {{LoraSdk.Core.JsonWriter.Quote(Path.Combine(tiny, "text_encoder_2", "config.json"))}} }
            """;
    }

    private static string Sha256(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    /// <summary>Builds and runs the consumer; per adapter: its generated RuntimePath and Sha256, checked against the copy next to the app.</summary>
    private static System.Collections.Generic.Dictionary<string, string> BuildRunAndCheckCopies(TempFolder temp, System.Collections.Generic.Dictionary<string, string> sources)
    {
        var (code, output) = DotnetCli.Build(temp.Path);
        Assert.True(code == 0, output);
        string bin = Path.Combine(temp.Path, "bin", "Debug", "net10.0");
        var (runCode, run) = DotnetCli.Run(bin, TimeSpan.FromMinutes(1), "Consumer.dll");
        Assert.True(runCode == 0, run);
        var paths = new System.Collections.Generic.Dictionary<string, string>();
        foreach (var line in run.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split('|');
            string name = parts[0], runtimePath = parts[1], sha = parts[2];
            string copy = Path.Combine(bin, runtimePath);
            Assert.True(File.Exists(copy), $"{name}: {copy} is missing\n{run}");
            // The bytes next to the app are the bytes the generated type describes, and the source's bytes.
            Assert.Equal(sha, Sha256(copy));
            Assert.Equal(Sha256(sources[name]), sha);
            paths.Add(name, runtimePath);
        }
        Assert.Equal(sources.Keys.OrderBy(k => k), paths.Keys.OrderBy(k => k));
        return paths;
    }

    [Fact]
    public void CopiedAdapterFilesAreTheBytesTheTypesWereGeneratedFrom()
    {
        using var temp = new TempFolder("lorasdk-copies-");
        WriteConsumer(temp, "Exe");
        temp.Write("Program.cs", """
            using System;
            foreach (var a in Consumer.Loras.Adapters.All) Console.WriteLine($"{a.Name}|{a.RuntimePath}|{a.Sha256}");
            """);
        // Two different files with one file name, in two folders.
        Directory.CreateDirectory(temp.File("loras/x"));
        Directory.CreateDirectory(temp.File("loras/y"));
        File.Copy(RepoPaths.Lora("lora_c"), temp.File("loras/x/style.safetensors"));
        File.Copy(RepoPaths.Lora("lora_d"), temp.File("loras/y/style.safetensors"));
        temp.Write("adapters.manifest", $$"""
            {
              "namespace": "Consumer.Loras",
              "baseModel": {{TinySdxlBaseModel()}},
              "adapters": [
                { "name": "X", "file": "loras/x/style.safetensors", "triggerWords": ["x"] },
                { "name": "Y", "file": "loras/y/style.safetensors", "triggerWords": ["y"] }
              ]
            }
            """);
        var sources = new System.Collections.Generic.Dictionary<string, string>
        {
            ["X"] = temp.File("loras/x/style.safetensors"),
            ["Y"] = temp.File("loras/y/style.safetensors"),
        };
        var first = BuildRunAndCheckCopies(temp, sources);
        Assert.NotEqual(first["X"], first["Y"]);
        Assert.All(first.Values, p => Assert.EndsWith("/style.safetensors", p));

        // Replace X with other bytes of the same size and an older last-write time than its copy: a timestamp rule
        // ("copy if newer") would keep the stale copy; the content hash does not.
        var bytes = File.ReadAllBytes(RepoPaths.Lora("lora_c"));
        bytes[^1] ^= 0x5a;
        File.Delete(sources["X"]);
        File.WriteAllBytes(sources["X"], bytes);
        File.SetLastWriteTimeUtc(sources["X"], new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var second = BuildRunAndCheckCopies(temp, sources);
        Assert.NotEqual(first["X"], second["X"]);
        Assert.Equal(first["Y"], second["Y"]);
        // The stale copy is cleaned from the output folder.
        Assert.False(File.Exists(Path.Combine(temp.Path, "bin", "Debug", "net10.0", first["X"])), "the stale copy of X is still next to the app");
    }

    [Fact]
    public void PeftAdapterFoldersAreCopiedAsFoldersTheAppLoadsAndAConfigEditRebuildsThem()
    {
        using var temp = new TempFolder("lorasdk-peft-");
        WriteConsumer(temp, "Exe");
        string repo = RepoPaths.Root;
        // The app reads the copy the way the runtime does: the folder under its RuntimePath, with its adapter_config.json.
        File.WriteAllText(temp.File("Consumer.csproj"), File.ReadAllText(temp.File("Consumer.csproj")).Replace(
            "<Reference Include=",
            $"<Reference Include=\"{repo}/runtime/LoraSdk.Core/bin/{RepoPaths.Configuration}/netstandard2.0/LoraSdk.Core.dll\" />\n    <Reference Include="));
        temp.Write("Program.cs", """
            using System;
            using System.IO;
            using System.Linq;
            foreach (var a in Consumer.Loras.Adapters.All)
            {
                var model = LoraSdk.Core.LoraFileModel.Read(Path.Combine(AppContext.BaseDirectory, a.RuntimePath));
                var alphas = string.Join(",", model.Components["unet"].Values.Select(m => m.Alpha).Distinct());
                Console.WriteLine($"{a.Name}|{a.RuntimePath}|{a.Sha256}|{a.Alpha}|{a.Scaling}|{alphas}");
            }
            """);
        // PEFT's save_pretrained layout (root/ikea/…) copied into the project, and a second adapter named by its folder.
        string seed = RepoPaths.Combine("tests", "fixtures-seed-flows", "peft-models-ad");
        foreach (var (from, to) in new[] { ("ikea_peft_model/ikea", "peft/ikea_peft_model/ikea"), ("feng_peft_model/feng", "peft/feng") })
        {
            Directory.CreateDirectory(temp.File(to));
            foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors" }) File.Copy(Path.Combine(seed, from, f), Path.Combine(temp.File(to), f));
        }
        temp.Write("adapters.manifest", $$"""
            {
              "namespace": "Consumer.Loras",
              "baseModel": {{TinySdxlBaseModel()}},
              "adapters": [
                { "name": "Ikea", "file": "peft/ikea_peft_model", "subfolder": "ikea", "triggerWords": ["ikea"] },
                { "name": "Feng", "file": "peft/feng", "triggerWords": ["feng"] }
              ]
            }
            """);
        string bin = Path.Combine(temp.Path, "bin", "Debug", "net10.0");

        System.Collections.Generic.Dictionary<string, string[]> BuildAndRun()
        {
            var (code, output) = DotnetCli.Build(temp.Path);
            Assert.True(code == 0, output);
            Assert.DoesNotContain("warning LSDK", output);
            var (runCode, run) = DotnetCli.Run(bin, TimeSpan.FromMinutes(1), "Consumer.dll");
            Assert.True(runCode == 0, run);
            var lines = run.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split('|')).ToDictionary(p => p[0]);
            foreach (var (name, source) in new[] { ("Ikea", temp.File("peft/ikea_peft_model/ikea")), ("Feng", temp.File("peft/feng")) })
            {
                string copy = Path.Combine(bin, lines[name][1]);
                Assert.True(Directory.Exists(copy), $"{name}: {copy} is not a folder");
                // The two files next to the app are the bytes the type was generated from, under the folder hash.
                foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors" })
                    Assert.Equal(Sha256(Path.Combine(source, f)), Sha256(Path.Combine(copy, f)));
                string folderHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                    $"{Sha256(Path.Combine(source, "adapter_config.json"))}  adapter_config.json\n{Sha256(Path.Combine(source, "adapter_model.safetensors"))}  adapter_model.safetensors\n"))).ToLowerInvariant();
                Assert.Equal(folderHash, lines[name][2]);
                Assert.Equal($"loras/{folderHash.Substring(0, 16)}/{Path.GetFileName(source)}", lines[name][1]);
            }
            return lines;
        }

        var first = BuildAndRun();
        // Alpha and scaling of the config (lora_alpha 8, r 4), also as the app reads the copied folder.
        Assert.Equal(new[] { "8", "2", "8" }, first["Ikea"][3..]);
        Assert.Equal(new[] { "8", "2", "8" }, first["Feng"][3..]);

        // An edited adapter_config.json (lora_alpha 16) rebuilds Ikea: new facts, new copy; Feng is untouched.
        string config = temp.File("peft/ikea_peft_model/ikea/adapter_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"lora_alpha\": 8,", "\"lora_alpha\": 16,"));
        var second = BuildAndRun();
        Assert.Equal(new[] { "16", "4", "16" }, second["Ikea"][3..]);
        Assert.NotEqual(first["Ikea"][1], second["Ikea"][1]);
        Assert.Equal(first["Feng"], second["Feng"]);
        Assert.False(File.Exists(Path.Combine(bin, first["Ikea"][1], "adapter_config.json")), "the stale copy of Ikea's config is still next to the app");
    }
}

/// <summary>End-to-end builds share the repository's outputs: run them one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class EndToEndCollection
{
    public const string Name = "End-to-end builds";
}
