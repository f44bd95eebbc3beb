using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Core;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>The InspectLoraAdapters task on real fixture files: sidecar content, failure statuses, caching.</summary>
public class BuildTaskTests
{
    private static string Manifest(params string[] files) =>
        "{ \"namespace\": \"T\", \"baseModel\": \"sdxl\", \"adapters\": [" +
        string.Join(",", files.Select((f, i) => $"{{ \"name\": \"A{i}\", \"file\": {JsonWriter.Quote(f)} }}")) + "] }";

    private static JsonValue Sidecar(Microsoft.Build.Framework.ITaskItem item) => JsonValue.Parse(File.ReadAllText(item.ItemSpec));

    [Fact]
    public void OkSidecarHoldsTheGeneratorsFactsAndTheFileIdentity()
    {
        using var temp = new TempFolder();
        string lora = RepoPaths.Lora("lora_a");
        string manifest = temp.Write("adapters.manifest", Manifest(lora));
        var (task, engine) = BuildStep.Inspect(manifest, temp.File("obj/lorasdk"));

        var item = Assert.Single(task.Sidecars);
        Assert.Equal("Sidecar", item.GetMetadata("LoraSdkRole"));
        Assert.EndsWith(".lorasdk.json", item.ItemSpec);
        var doc = Sidecar(item);
        Assert.Equal(5, doc["lorasdkSidecar"]!.AsInt64());
        Assert.Equal("ok", doc["status"]!.AsString());
        Assert.Equal(Path.GetFullPath(manifest), doc["manifest"]!.AsString());
        Assert.Equal(lora, doc["file"]!.AsString());
        Assert.Equal("lora_a.safetensors", doc["fileName"]!.AsString());
        Assert.Equal(new FileInfo(lora).Length, doc["fileSize"]!.AsInt64());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(lora))).ToLowerInvariant(), doc["sha256"]!.AsString());
        // The facts of the formats core's file model, in the slim encoding (baseline rank/alpha + exceptions).
        var model = LoraFileModel.Read(lora);
        Assert.Equal(model.Format, doc["format"]!.AsString());
        Assert.Equal(model.TriggerWords, doc["triggerWords"]!.Items.Select(i => i.AsString()));
        Assert.Equal(model.DeclaredArchitecture, doc["declaredArchitecture"]!.IsNull ? null : doc["declaredArchitecture"]!.AsString());
        Assert.Equal(model.ImpliedArchitecture, doc["impliedArchitecture"]!.IsNull ? null : doc["impliedArchitecture"]!.AsString());
        Assert.Equal(model.UsesRsLora, doc["usesRsLora"]!.AsBool());
        Assert.Equal(model.Components.Keys.Where(c => model.Components[c].Count > 0), doc["components"]!.Properties.Select(p => p.Key));
        var unet = doc["components"]!["unet"]!;
        Assert.Equal(model.Components["unet"].Keys.OrderBy(k => k, StringComparer.Ordinal), unet["modules"]!.Items.Select(i => i.AsString()));
        Assert.Equal(96, unet["modules"]!.Items.Count);
        Assert.Equal(4, unet["rank"]!.AsInt64());
        Assert.Equal(8.0, unet["alpha"]!.AsDouble());
        Assert.Null(unet["ranks"]);
        Assert.Null(unet["alphas"]);
        Assert.Null(unet["conv2d"]);
        Assert.Empty(doc["unsupported"]!.Items);
        // lora_a was made on the tiny SDXL, so against the real SDXL base every module is "missing" or "mismatch".
        Assert.NotEmpty(doc["compatibility"]!.Items);
        Assert.Empty(engine.Warnings);
        var copied = Assert.Single(task.AdapterFiles);
        Assert.Equal(lora, copied.ItemSpec);
        // Copied under a folder named by the content hash: the path changes exactly when the bytes do.
        string runtimePath = "loras/" + doc["sha256"]!.AsString().Substring(0, 16) + "/lora_a.safetensors";
        Assert.Equal(runtimePath, doc["runtimePath"]!.AsString());
        Assert.Equal(runtimePath.Replace('/', Path.DirectorySeparatorChar), copied.GetMetadata("TargetPath"));
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    [Fact]
    public void SameFileNameInDifferentFoldersGetsDistinctOutputPaths()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("x"));
        Directory.CreateDirectory(temp.File("y"));
        Directory.CreateDirectory(temp.File("z"));
        File.Copy(RepoPaths.Lora("lora_c"), temp.File("x/style.safetensors"));
        File.Copy(RepoPaths.Lora("lora_d"), temp.File("y/style.safetensors"));
        File.Copy(RepoPaths.Lora("lora_c"), temp.File("z/style.safetensors")); // the same bytes as x under the same name
        string manifest = temp.Write("adapters.manifest", Manifest("x/style.safetensors", "y/style.safetensors", "z/style.safetensors"));
        var (task, engine) = BuildStep.Inspect(manifest, temp.File("obj"));

        Assert.Empty(engine.Warnings);
        string PathOf(string source) => "loras/" + Sha256(source).Substring(0, 16) + "/style.safetensors";
        Assert.Equal(new[] { PathOf(temp.File("x/style.safetensors")), PathOf(temp.File("y/style.safetensors")), PathOf(temp.File("z/style.safetensors")) },
            task.Sidecars.Select(s => Sidecar(s)["runtimePath"]!.AsString()));
        // x and y are both copied, to different paths; z has x's bytes and name, so x's copy serves both.
        Assert.Equal(new[] { temp.File("x/style.safetensors"), temp.File("y/style.safetensors") }, task.AdapterFiles.Select(f => f.ItemSpec));
        Assert.Equal(2, task.AdapterFiles.Select(f => f.GetMetadata("TargetPath")).Distinct().Count());
    }

    [Fact]
    public void AFileReplacedByAnOlderOneOfTheSameSizeIsHashedAgain()
    {
        using var temp = new TempFolder();
        string lora = temp.File("a.safetensors");
        File.Copy(RepoPaths.Lora("lora_c"), lora);
        string manifest = temp.Write("adapters.manifest", Manifest("a.safetensors"));
        var (first, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        string before = Sidecar(first.Sidecars[0])["sha256"]!.AsString();

        // Same size, other tensor bytes, an older last-write time.
        var bytes = File.ReadAllBytes(RepoPaths.Lora("lora_c"));
        bytes[^1] ^= 0x5a;
        File.Delete(lora);
        File.WriteAllBytes(lora, bytes);
        File.SetLastWriteTimeUtc(lora, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var (second, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        var doc = Sidecar(second.Sidecars[0]);
        Assert.Equal(Sha256(lora), doc["sha256"]!.AsString());
        Assert.NotEqual(before, doc["sha256"]!.AsString());
        Assert.Equal("loras/" + Sha256(lora).Substring(0, 16) + "/a.safetensors", Assert.Single(second.AdapterFiles).GetMetadata("TargetPath").Replace('\\', '/'));
    }

    [Fact]
    public void AnInvalidFileIsNeverCopiedAlsoOnAWarmBuild()
    {
        using var temp = new TempFolder();
        temp.Write("bad.safetensors", "not a safetensors file at all");
        string manifest = temp.Write("adapters.manifest", Manifest("bad.safetensors"));
        var (first, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Empty(first.AdapterFiles);
        var (second, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((0, 0), (second.HeadersRead, second.FilesHashed));
        Assert.Empty(second.AdapterFiles);
        Assert.Equal("invalid", Sidecar(second.Sidecars[0])["status"]!.AsString());
    }

    [Fact]
    public void MissingFileGivesAMissingSidecarAndDoesNotFailTheBuild()
    {
        using var temp = new TempFolder();
        string manifest = temp.Write("adapters.manifest", Manifest("loras/nope.safetensors"));
        var (task, engine) = BuildStep.Inspect(manifest, temp.File("obj/lorasdk"));

        var doc = Sidecar(Assert.Single(task.Sidecars));
        Assert.Equal("missing", doc["status"]!.AsString());
        Assert.Equal(temp.File("loras/nope.safetensors"), doc["path"]!.AsString());
        Assert.Contains("not found", doc["error"]!.AsString());
        Assert.Empty(task.AdapterFiles);
        Assert.Empty(engine.Errors);
    }

    [Fact]
    public void BadHeaderRecordsTheFormatCoresReason()
    {
        using var temp = new TempFolder();
        var bytes = new byte[64];
        BitConverter.GetBytes(1_000_000L).CopyTo(bytes, 0); // header length beyond the file
        File.WriteAllBytes(temp.File("bad.safetensors"), bytes);
        temp.Write("old.ckpt", "pickle");
        string manifest = temp.Write("adapters.manifest", Manifest("bad.safetensors", "old.ckpt"));
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj/lorasdk"));

        var bad = Sidecar(task.Sidecars[0]);
        Assert.Equal("invalid", bad["status"]!.AsString());
        var expected = Assert.ThrowsAny<LoraSdkFormatException>(() => LoraFileModel.Read(temp.File("bad.safetensors"))).Message;
        Assert.Equal(expected, bad["error"]!.AsString());
        var pickle = Sidecar(task.Sidecars[1]);
        Assert.Equal("invalid", pickle["status"]!.AsString());
        Assert.Contains("pickle", pickle["error"]!.AsString());
        Assert.Empty(task.AdapterFiles);
    }

    [Fact]
    public void UnchangedFilesAreNeitherReadNorHashedNorRewritten()
    {
        using var temp = new TempFolder();
        string lora = temp.File("a.safetensors");
        File.Copy(RepoPaths.Lora("lora_c"), lora);
        string manifest = temp.Write("adapters.manifest", Manifest("a.safetensors"));
        var (first, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((1, 1, 1), (first.HeadersRead, first.FilesHashed, first.SidecarsWritten));
        string sidecar = first.Sidecars[0].ItemSpec;
        var written = File.GetLastWriteTimeUtc(sidecar);

        var (second, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((0, 0, 0), (second.HeadersRead, second.FilesHashed, second.SidecarsWritten));
        Assert.Equal(written, File.GetLastWriteTimeUtc(sidecar));

        // Touched but identical: hashed and read again, the sidecar text is the same so it is not rewritten.
        File.SetLastWriteTimeUtc(lora, DateTime.UtcNow.AddMinutes(1));
        var (touched, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((1, 1, 0), (touched.HeadersRead, touched.FilesHashed, touched.SidecarsWritten));

        // Another base model: the header is read again against the new layouts, the hash is reused.
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"sdxl\"", "\"sd15\""));
        var (rebased, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((1, 0, 1), (rebased.HeadersRead, rebased.FilesHashed, rebased.SidecarsWritten));

        // New content: everything again.
        File.Copy(RepoPaths.Lora("lora_d"), lora, overwrite: true);
        var (changed, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((1, 1, 1), (changed.HeadersRead, changed.FilesHashed, changed.SidecarsWritten));
        Assert.Equal(new FileInfo(RepoPaths.Lora("lora_d")).Length, Sidecar(changed.Sidecars[0])["fileSize"]!.AsInt64());
    }

    [Fact]
    public void SidecarsOfRemovedEntriesAreDeletedAndABrokenManifestKeepsThem()
    {
        using var temp = new TempFolder();
        string manifest = temp.Write("adapters.manifest", Manifest(RepoPaths.Lora("lora_c"), RepoPaths.Lora("lora_d")));
        var (both, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal(2, both.Sidecars.Length);

        File.WriteAllText(manifest, "{ \"adapters\": [ ");
        var (broken, engine) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Empty(broken.Sidecars);
        Assert.Empty(engine.Warnings);
        Assert.All(both.Sidecars, s => Assert.True(File.Exists(s.ItemSpec)));

        File.WriteAllText(manifest, Manifest(RepoPaths.Lora("lora_d")));
        var (one, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal(both.Sidecars[1].ItemSpec, Assert.Single(one.Sidecars).ItemSpec);
        Assert.False(File.Exists(both.Sidecars[0].ItemSpec));
        Assert.False(File.Exists(both.Sidecars[0].ItemSpec + ".stamp"));
    }

    [Fact]
    public void CustomBaseModelLayoutsFromConfigFilesFitTheTinyFixtures()
    {
        using var temp = new TempFolder();
        string tiny = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");
        string manifest = temp.Write("adapters.manifest", $$"""
            { "namespace": "T", "baseModel": { "name": "TinySdxl", "architecture": "sdxl",
                "unetConfig": {{JsonWriter.Quote(Path.Combine(tiny, "unet", "config.json"))}},
                "textEncoderConfig": {{JsonWriter.Quote(Path.Combine(tiny, "text_encoder", "config.json"))}},
                "textEncoder2Config": {{JsonWriter.Quote(Path.Combine(tiny, "text_encoder_2", "config.json"))}} },
              "adapters": [ { "name": "A", "file": {{JsonWriter.Quote(RepoPaths.Lora("lora_a"))}} },
                            { "name": "B", "file": {{JsonWriter.Quote(RepoPaths.Lora("lora_b"))}} } ] }
            """);
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        foreach (var item in task.Sidecars)
        {
            var doc = Sidecar(item);
            Assert.Equal("ok", doc["status"]!.AsString());
            Assert.Empty(doc["compatibility"]!.Items);
            Assert.Null(doc["baseModelError"]);
            Assert.Equal("TinySdxl", doc["baseModel"]!.AsString());
            // Far smaller than the full inspect --json document (sidecar format 1).
            var model = LoraFileModel.Read(doc["path"]!.AsString());
            long inspect = LoraInspectJson.Write(model, indented: false).Length;
            Assert.True(new FileInfo(item.ItemSpec).Length * 5 < inspect, $"sidecar {new FileInfo(item.ItemSpec).Length} B vs inspect {inspect} B");
        }
        // lora_b: Linear and Conv2d modules; the Conv2d ones are listed.
        var b = Sidecar(task.Sidecars[1])["components"]!["unet"]!;
        var modelB = LoraFileModel.Read(RepoPaths.Lora("lora_b"));
        Assert.Equal(modelB.Components["unet"].Values.Where(m => m.Kind == LoraLayerKind.Conv2d).Select(m => m.ModulePath).OrderBy(p => p, StringComparer.Ordinal),
            b["conv2d"]!.Items.Select(i => i.AsString()));
        Assert.Equal(24, b["conv2d"]!.Items.Count);
    }

    [Theory]
    [InlineData("\"architecture\": \"sdxl\",", "sdxl")]
    [InlineData("", null)]
    public void ImpliedArchitectureIsAnArchitectureAlsoForACustomBaseModel(string architecture, string? expected)
    {
        // lora_a fits only the tiny SDXL's UNet config: its shapes imply the custom model's architecture (sdxl, the
        // same vocabulary as DeclaredArchitecture), not the custom model's name; nothing when the model declares none.
        using var temp = new TempFolder();
        string tiny = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");
        string manifest = temp.Write("adapters.manifest", $$"""
            { "namespace": "T", "baseModel": { "name": "TinySdxl", {{architecture}}
                "unetConfig": {{JsonWriter.Quote(Path.Combine(tiny, "unet", "config.json"))}} },
              "adapters": [ { "name": "A", "file": {{JsonWriter.Quote(RepoPaths.Lora("lora_a"))}} } ] }
            """);
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        var doc = Sidecar(Assert.Single(task.Sidecars));
        Assert.Equal("ok", doc["status"]!.AsString());
        Assert.Equal(expected, doc["impliedArchitecture"]!.IsNull ? null : doc["impliedArchitecture"]!.AsString());
        // The formats core names the layout the shapes fit; the sidecar translates it.
        Assert.Equal("TinySdxl", LoraFileModel.Read(RepoPaths.Lora("lora_a"), new LoraFileModelOptions
        {
            Unet = UnetLayout.FromUnetConfigJson(File.ReadAllText(Path.Combine(tiny, "unet", "config.json")), "TinySdxl"),
        }).ImpliedArchitecture);
    }

    [Fact]
    public void UnreadableBaseModelConfigIsRecordedForTheGenerator()
    {
        using var temp = new TempFolder();
        string manifest = temp.Write("adapters.manifest", $$"""
            { "namespace": "T", "baseModel": { "name": "Custom", "unetConfig": "missing/config.json" },
              "adapters": [ { "name": "A", "file": {{JsonWriter.Quote(RepoPaths.Lora("lora_c"))}} } ] }
            """);
        var (task, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        var doc = Sidecar(Assert.Single(task.Sidecars));
        Assert.Equal("ok", doc["status"]!.AsString());
        Assert.StartsWith("unetConfig 'missing/config.json' could not be read", doc["baseModelError"]!.AsString());
    }
}
