using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using LoraSdk.Core;
using LoraSdk.Generators.Tests.Infrastructure;
using LoraSdk.Typed;
using Microsoft.CodeAnalysis;
using static LoraSdk.Generators.Tests.Infrastructure.DiagnosticAssert;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// A manifest entry's <c>file</c> may name a PEFT adapter folder (<c>adapter_config.json</c> +
/// <c>adapter_model.safetensors</c>, optionally with <c>subfolder</c>, as <c>PeftModel.save_pretrained</c> writes it):
/// through the real build task and the generator, the typed adapter has the config's ranks, alphas, scaling, rsLoRA,
/// DoRA and targets (the oracle is the config and header of PEFT's own folders in tests/fixtures-seed-flows, read
/// independently here); what the runtime refuses is LSDK019, what it warns about LSDK020, what is not there LSDK002,
/// all at the manifest value; the folder is copied next to the app as a folder, addressed by the hash of both files.
/// </summary>
public class PeftFolderTests
{
    private static readonly string TinySdxl = RepoPaths.Combine("tests", "fixtures", "tiny-sdxl");
    private static readonly string SeedFlows = RepoPaths.Combine("tests", "fixtures-seed-flows");

    private static string AdFolder(string name) => Path.Combine(SeedFlows, "peft-models-ad", name + "_peft_model");

    private static string AbFolder(string name) => Path.Combine(SeedFlows, "peft-models-ab", name + "_peft_model");

    private static string Q(string s) => JsonWriter.Quote(s);

    /// <summary>The manifest; line 8 is the first adapter entry.</summary>
    private static string Manifest(string adapters, string extra = "") => $$"""
        {
          "namespace": "Demo",
          "baseModel": { "name": "TinySdxl", "architecture": "sdxl",
            "unetConfig": {{Q(Path.Combine(TinySdxl, "unet", "config.json"))}},
            "textEncoderConfig": {{Q(Path.Combine(TinySdxl, "text_encoder", "config.json"))}},
            "textEncoder2Config": {{Q(Path.Combine(TinySdxl, "text_encoder_2", "config.json"))}} },
          "adapters": [
        {{adapters}}
          ]{{extra}}
        }
        """;

    private static string Entry(string name, string file, string? subfolder = null) =>
        $"    {{ \"name\": \"{name}\", \"file\": {Q(file)}{(subfolder == null ? "" : ", \"subfolder\": " + Q(subfolder))}, \"triggerWords\": [\"{name.ToLowerInvariant()}\"] }}";

    private sealed record Built(GeneratorOutcome Outcome, string Manifest, string ManifestPath, LoraSdk.Build.InspectLoraAdapters Task);

    private static Built Build(TempFolder temp, string manifestText)
    {
        string manifest = temp.Write("adapters.manifest", manifestText);
        var (task, engine) = BuildStep.Inspect(manifest, temp.File("obj/lorasdk"));
        Assert.Empty(engine.Warnings);
        return new Built(GeneratorHarness.Run(BuildStep.AdditionalFiles(manifest, task)), manifestText, Path.GetFullPath(manifest), task);
    }

    /// <summary>The generated adapters, compiled and loaded: name → instance.</summary>
    private static Dictionary<string, LoraAdapter> Adapters(GeneratorOutcome outcome, params string[] names)
    {
        Assert.Empty(outcome.CompilationErrors);
        using var stream = new MemoryStream();
        var emit = outcome.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        var catalog = System.Reflection.Assembly.Load(stream.ToArray()).GetType("Demo.Adapters")!;
        return names.ToDictionary(n => n, n => (LoraAdapter)catalog.GetProperty(n)!.GetValue(null)!);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>The folder's content hash, computed here from its definition: SHA-256 of the <c>sha256sum</c> listing of its two files.</summary>
    private static string FolderHash(string folder) =>
        Sha256(System.Text.Encoding.UTF8.GetBytes(
            $"{Sha256(File.ReadAllBytes(Path.Combine(folder, "adapter_config.json")))}  adapter_config.json\n" +
            $"{Sha256(File.ReadAllBytes(Path.Combine(folder, "adapter_model.safetensors")))}  adapter_model.safetensors\n"));

    /// <summary>The PEFT folder as PEFT wrote it: the config, and each module's rank from its <c>lora_A</c> shape.</summary>
    private static (LoraAdapterConfig Config, SortedDictionary<string, int> Ranks) Oracle(string folder)
    {
        var config = LoraAdapterConfig.FromJson(File.ReadAllText(Path.Combine(folder, "adapter_config.json")), "adapter_config.json", new List<string>());
        var ranks = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in SafetensorsHeader.Read(Path.Combine(folder, "adapter_model.safetensors")).Tensors)
        {
            const string prefix = "base_model.model.", suffix = ".lora_A.weight";
            Assert.StartsWith(prefix, t.Name);
            if (t.Name.EndsWith(suffix, StringComparison.Ordinal))
                ranks.Add(t.Name.Substring(prefix.Length, t.Name.Length - prefix.Length - suffix.Length), (int)t.Shape[0]);
        }
        return (config, ranks);
    }

    /// <summary>Every fact of the typed adapter equals what the folder's config and weights say.</summary>
    private static void AssertFactsOfTheFolder(LoraAdapter adapter, string folder, string name)
    {
        var (config, ranks) = Oracle(folder);
        var unet = Assert.Single(adapter.Components);
        Assert.Equal("unet", unet.Name);
        Assert.Equal(ranks.Keys, unet.TargetModules);
        foreach (var (module, rank) in ranks)
        {
            var names = new[] { module };
            Assert.Equal(rank, unet.RankOf(module));
            Assert.Equal(config.RankFor(names), unet.RankOf(module));
            Assert.Equal(config.AlphaFor(names, out _), unet.AlphaOf(module));
        }
        Assert.Equal(config.AdapterRankValue, adapter.Rank);
        Assert.Equal(config.LoraAlpha, adapter.Alpha);
        Assert.Equal(config.LoraAlpha / config.R, adapter.Scaling);
        Assert.Equal(config.UseRsLora, adapter.UsesRsLora);
        Assert.Equal(config.UseDora ? "dora" : "lora", adapter.Variant);
        Assert.Equal("peft", adapter.Format);
        Assert.Equal(name, adapter.FileName);
        string hash = FolderHash(folder);
        Assert.Equal(hash, adapter.Sha256);
        Assert.Equal(new FileInfo(Path.Combine(folder, "adapter_config.json")).Length + new FileInfo(Path.Combine(folder, "adapter_model.safetensors")).Length,
            adapter.FileSize);
    }

    [Fact]
    public void ThePeftFoldersOfTheGuidesMergeFlowBuildWithTheFactsOfTheirConfigs()
    {
        using var temp = new TempFolder();
        // Every way to name a PEFT folder: root + subfolder (PEFT's from_pretrained(root, subfolder=…)), the adapter
        // folder itself, and its adapter_model.safetensors (with the config beside it).
        var built = Build(temp, Manifest(string.Join(",\n",
            Entry("AdIkea", AdFolder("ikea"), "ikea"),
            Entry("AdFeng", Path.Combine(AdFolder("feng"), "feng")),
            Entry("AbIkea", Path.Combine(AbFolder("ikea"), "ikea", "adapter_model.safetensors")),
            Entry("AbFeng", AbFolder("feng") + "/", "feng"))));
        Assert.True(built.Outcome.GeneratorDiagnostics.IsEmpty, built.Outcome.Describe());
        var adapters = Adapters(built.Outcome, "AdIkea", "AdFeng", "AbIkea", "AbFeng");

        AssertFactsOfTheFolder(adapters["AdIkea"], Path.Combine(AdFolder("ikea"), "ikea"), "ikea");
        AssertFactsOfTheFolder(adapters["AdFeng"], Path.Combine(AdFolder("feng"), "feng"), "feng");
        AssertFactsOfTheFolder(adapters["AbIkea"], Path.Combine(AbFolder("ikea"), "ikea"), "adapter_model.safetensors");
        AssertFactsOfTheFolder(adapters["AbFeng"], Path.Combine(AbFolder("feng"), "feng"), "feng");
        // The numbers the configs state (the adapter_model.safetensors alone carries no alpha: read as a file it would be scaling 1).
        Assert.Equal((4, 8.0, 2.0), (adapters["AdIkea"].Rank, adapters["AdIkea"].Alpha, adapters["AdIkea"].Scaling));
        Assert.Equal((8, 4.0, 0.5), (adapters["AbFeng"].Rank, adapters["AbFeng"].Alpha, adapters["AbFeng"].Scaling));
        Assert.Equal(24, adapters["AbFeng"].GetComponent("unet")!.Conv2dModuleCount);
        // FilePath names the adapter folder relative to the manifest (file + subfolder).
        Assert.Equal(AdFolder("ikea") + "/ikea", adapters["AdIkea"].FilePath);
        Assert.Equal(AbFolder("feng") + "/feng", adapters["AbFeng"].FilePath);

        // Where the app finds them: the folder under its content hash (the runtime's LoadLoraWeights(folder) reads it as a
        // PEFT folder), or the weights file inside it (whose config beside it makes it one).
        string Hash16(string folder) => FolderHash(folder).Substring(0, 16);
        Assert.Equal($"loras/{Hash16(Path.Combine(AdFolder("ikea"), "ikea"))}/ikea", adapters["AdIkea"].RuntimePath);
        Assert.Equal($"loras/{Hash16(Path.Combine(AbFolder("ikea"), "ikea"))}/ikea/adapter_model.safetensors", adapters["AbIkea"].RuntimePath);
        // ad/ikea and ab/ikea are the same bytes under the same folder name: one copy of the two files serves both.
        Assert.Equal(Hash16(Path.Combine(AdFolder("ikea"), "ikea")), Hash16(Path.Combine(AbFolder("ikea"), "ikea")));
        var copies = built.Task.AdapterFiles.Select(f => (f.ItemSpec, Target: f.GetMetadata("TargetPath").Replace('\\', '/'))).ToList();
        var expected = new[] { (AdFolder("ikea"), "ikea", "ikea"), (AdFolder("feng"), "feng", "feng"), (AbFolder("feng"), "feng", "feng") }
            .SelectMany(x => new[] { "adapter_config.json", "adapter_model.safetensors" }.Select(f =>
                (Path.Combine(x.Item1, x.Item2, f), $"loras/{Hash16(Path.Combine(x.Item1, x.Item2))}/{x.Item3}/{f}")))
            .ToList();
        Assert.Equal(expected, copies);
    }

    [Fact]
    public void TheGuidesRankErrorOfPeftModelsAbIsACompileTimeError()
    {
        // peft-models-ab: add_weighted_adapter([ikea, feng], "dare_linear") raised "All adapters must have the same r value".
        using var temp = new TempFolder();
        string merges = ",\n  \"merges\": [\n" +
                        "    { \"name\": \"AdDare\", \"adapters\": [\"AdIkea\", \"AdFeng\"], \"weights\": [1.0, 1.0], \"combinationType\": \"dare_linear\", \"density\": 0.5, \"seed\": 0 },\n" +
                        "    { \"name\": \"AbDare\", \"adapters\": [\"AbIkea\", \"AbFeng\"], \"weights\": [1.0, 1.0], \"combinationType\": \"dare_linear\", \"density\": 0.5, \"seed\": 0 }\n  ]";
        var built = Build(temp, Manifest(string.Join(",\n",
            Entry("AdIkea", AdFolder("ikea"), "ikea"), Entry("AdFeng", AdFolder("feng"), "feng"),
            Entry("AbIkea", AbFolder("ikea"), "ikea"), Entry("AbFeng", AbFolder("feng"), "feng")), merges));
        var d = Only(built.Outcome, "LSDK009").Single();
        Assert.Equal("Merge 'AbDare': combination type 'dare_linear' needs adapters of equal rank, but 'AbIkea' has rank 4 and 'AbFeng' has rank 8", d.GetMessage());
        At(d, built.Manifest, 15, "\"AbFeng\"", built.ManifestPath);
        Assert.Contains(built.Outcome.Sources, s => s.HintName == "Demo.Merges.AdDare.g.cs");
    }

    // ---------------- synthetic folders ----------------

    /// <summary>ad/ikea's modules (attention to_q/k/v/out.0 of the tiny UNet) with the rank <paramref name="rankOf"/> gives each.</summary>
    private static List<(string Module, long In, long Out, int Rank)> IkeaModules(Func<string, int>? rankOf = null)
    {
        var header = SafetensorsHeader.Read(Path.Combine(AdFolder("ikea"), "ikea", "adapter_model.safetensors"));
        return header.Tensors.Where(t => t.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal))
            .Select(a =>
            {
                string module = a.Name.Substring("base_model.model.".Length, a.Name.Length - "base_model.model.".Length - ".lora_A.weight".Length);
                var b = header.Tensors.Single(t => t.Name == "base_model.model." + module + ".lora_B.weight");
                return (module, a.Shape[1], b.Shape[0], rankOf?.Invoke(module) ?? (int)a.Shape[0]);
            })
            .ToList();
    }

    /// <summary>
    /// Writes a PEFT folder: <c>adapter_model.safetensors</c> with the modules' <c>lora_A</c>/<c>lora_B</c> (and DoRA
    /// magnitude vectors when asked), zero data, and ad/ikea's <c>adapter_config.json</c> changed by <paramref name="edit"/>.
    /// </summary>
    private static string WriteFolder(string folder, List<(string Module, long In, long Out, int Rank)> modules, Action<JsonObject>? edit = null, bool magnitudes = false)
    {
        Directory.CreateDirectory(folder);
        var tensors = new List<SafetensorsTensorEntry>();
        foreach (var m in modules)
        {
            tensors.Add(new SafetensorsTensorEntry($"base_model.model.{m.Module}.lora_A.weight", SafetensorsDType.F32, new[] { (long)m.Rank, m.In }));
            tensors.Add(new SafetensorsTensorEntry($"base_model.model.{m.Module}.lora_B.weight", SafetensorsDType.F32, new[] { m.Out, (long)m.Rank }));
            if (magnitudes) tensors.Add(new SafetensorsTensorEntry($"base_model.model.{m.Module}.lora_magnitude_vector", SafetensorsDType.F32, new[] { m.Out }));
        }
        var header = SafetensorsHeaderWriter.Build(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using (var stream = File.Create(Path.Combine(folder, "adapter_model.safetensors")))
        {
            stream.Write(header);
            stream.SetLength(header.Length + tensors.Sum(t => t.ByteLength));
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(AdFolder("ikea"), "ikea", "adapter_config.json")))!.AsObject();
        edit?.Invoke(config);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), config.ToJsonString());
        return folder;
    }

    [Fact]
    public void RankPatternAlphaPatternAndRsLoraGiveEveryModuleThePeftScaling()
    {
        using var temp = new TempFolder();
        string folder = WriteFolder(temp.File("peft/styled"), IkeaModules(m => m.EndsWith("attn2.to_k", StringComparison.Ordinal) ? 8 : 4), c =>
        {
            c["rank_pattern"] = new JsonObject { ["attn2.to_k"] = 8 };
            c["alpha_pattern"] = new JsonObject { ["to_v"] = 2 };
            c["use_rslora"] = true;
        });
        var built = Build(temp, Manifest(Entry("Styled", "peft", "styled")));
        Assert.True(built.Outcome.GeneratorDiagnostics.IsEmpty, built.Outcome.Describe());
        var adapter = Adapters(built.Outcome, "Styled")["Styled"];
        AssertPerModule(adapter, folder);
        var unet = adapter.GetComponent("unet")!;
        var toK = unet.TargetModules.Where(m => m.EndsWith("attn2.to_k", StringComparison.Ordinal)).ToList();
        var toV = unet.TargetModules.Where(m => m.EndsWith(".to_v", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(toK);
        Assert.NotEmpty(toV);
        Assert.All(toK, m => Assert.Equal((8, 8.0), (unet.RankOf(m), unet.AlphaOf(m))));
        Assert.All(toV, m => Assert.Equal((4, 2.0), (unet.RankOf(m), unet.AlphaOf(m))));
        Assert.Equal(toK.OrderBy(m => m, StringComparer.Ordinal), unet.RankPattern.Keys.OrderBy(m => m, StringComparer.Ordinal));
        Assert.Equal(toV.OrderBy(m => m, StringComparer.Ordinal), unet.AlphaPattern.Keys.OrderBy(m => m, StringComparer.Ordinal));
        // PEFT: the adapter's rank is max(r, *rank_pattern.values()); r and lora_alpha are the common values; rsLoRA scales by alpha / sqrt(r).
        Assert.Equal((8, 4, 8.0), (adapter.Rank, unet.Rank, adapter.Alpha));
        Assert.True(adapter.UsesRsLora);
        Assert.Equal(8 / Math.Sqrt(4), adapter.Scaling);
        Assert.Equal(8 / Math.Sqrt(4), unet.Scaling);
    }

    /// <summary>Each module's rank, alpha and rsLoRA scaling equal PEFT's for it (the config's patterns, matched as PEFT matches them).</summary>
    private static void AssertPerModule(LoraAdapter adapter, string folder)
    {
        var (config, ranks) = Oracle(folder);
        var unet = adapter.GetComponent("unet")!;
        Assert.Equal(ranks.Keys, unet.TargetModules);
        foreach (var (module, rank) in ranks)
        {
            var names = new[] { module };
            Assert.Equal((rank, config.RankFor(names)), (unet.RankOf(module), unet.RankOf(module)));
            Assert.Equal(config.AlphaFor(names, out _), unet.AlphaOf(module));
            double scaling = config.UseRsLora ? unet.AlphaOf(module) / Math.Sqrt(unet.RankOf(module)) : unet.AlphaOf(module) / unet.RankOf(module);
            double peft = config.UseRsLora ? config.AlphaFor(names, out _) / Math.Sqrt(config.RankFor(names)) : config.AlphaFor(names, out _) / config.RankFor(names);
            Assert.Equal(peft, scaling);
        }
    }

    [Fact]
    public void UseDoraWithMagnitudeVectorsIsADoraAdapter()
    {
        using var temp = new TempFolder();
        WriteFolder(temp.File("dora"), IkeaModules(), c => c["use_dora"] = true, magnitudes: true);
        var built = Build(temp, Manifest(Entry("Dora", "dora")));
        Assert.True(built.Outcome.GeneratorDiagnostics.IsEmpty, built.Outcome.Describe());
        var adapter = Adapters(built.Outcome, "Dora")["Dora"];
        Assert.Equal("dora", adapter.Variant);
        AssertPerModule(adapter, temp.File("dora"));
        string source = built.Outcome.Sources.Single(s => s.HintName == "Demo.Adapters.Dora.g.cs").SourceText.ToString();
        Assert.Contains(": global::LoraSdk.Typed.LoraAdapter<global::Demo.TinySdxl>", source); // DoRA: no rank marker
        Assert.Contains("/// DoRA adapter <c>Dora</c> (<c>dora</c>, a PEFT adapter folder) for <c>TinySdxl</c>", source);
    }

    // ---------------- what the runtime refuses: LSDK019 ----------------

    private static Diagnostic Refused(TempFolder temp, Action<JsonObject>? edit, Func<string, int>? rankOf = null, bool magnitudes = false)
    {
        WriteFolder(temp.File("models/bad"), IkeaModules(rankOf), edit, magnitudes);
        var built = Build(temp, Manifest(Entry("Bad", "models", "bad")));
        var d = Only(built.Outcome, "LSDK019").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        At(d, built.Manifest, 8, "\"models\"", built.ManifestPath);
        Assert.DoesNotContain(built.Outcome.Sources, s => s.HintName == "Demo.Adapters.Bad.g.cs");
        Assert.Empty(built.Task.AdapterFiles);
        return d;
    }

    [Fact]
    public void AConfigFieldTheSdkDoesNotImplementIsRefusedAtTheEntry()
    {
        using var temp = new TempFolder();
        var d = Refused(temp, c =>
        {
            c["lora_bias"] = true;
            c["modules_to_save"] = new JsonArray("conv_in");
        });
        // The messages are the SDK's one policy (PeftConfigPolicy), the same the runtime throws with.
        var config = LoraAdapterConfig.FromJson(File.ReadAllText(temp.File("models/bad/adapter_config.json")), "x", new List<string>());
        var refusals = PeftConfigPolicy.Check(config).Where(f => f.IsRefusal).Select(f => f.Message).ToList();
        Assert.Equal(2, refusals.Count);
        Assert.Equal($"Adapter 'Bad': the PEFT adapter folder 'models/bad' would be refused at load: {string.Join("; ", refusals)}", d.GetMessage());
        Assert.Contains("lora_bias = true: adds a trained bias to lora_B; not supported", d.GetMessage());
    }

    [Fact]
    public void AConfigThatIsNotJsonIsRefused()
    {
        using var temp = new TempFolder();
        WriteFolder(temp.File("models/bad"), IkeaModules());
        File.WriteAllText(temp.File("models/bad/adapter_config.json"), "{ \"r\": 4, ");
        var built = Build(temp, Manifest(Entry("Bad", "models", "bad")));
        var d = Only(built.Outcome, "LSDK019").Single();
        Assert.StartsWith("Adapter 'Bad': the PEFT adapter folder 'models/bad' would be refused at load: adapter_config.json: ", d.GetMessage());
        At(d, built.Manifest, 8, "\"models\"", built.ManifestPath);
    }

    [Fact]
    public void WeightsOfAnotherRankThanTheConfigSaysAreRefused()
    {
        using var temp = new TempFolder();
        // attn1.to_q has rank 8 in the weights, the config (r 4, no rank_pattern) gives it 4: PEFT's size mismatch.
        var d = Refused(temp, null, m => m == "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q" ? 8 : 4);
        Assert.Equal("Adapter 'Bad': the PEFT adapter folder 'models/bad' would be refused at load: unet: the weights of " +
                     "'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q' have rank 8, but adapter_config.json gives it rank 4 " +
                     "(PEFT fails with a size mismatch for base_model.model.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight)",
            d.GetMessage());
    }

    [Fact]
    public void UseDoraWithoutMagnitudeVectorsIsRefused()
    {
        using var temp = new TempFolder();
        var d = Refused(temp, c => c["use_dora"] = true);
        Assert.Contains("unet: adapter_config.json has use_dora = true, but the weights of 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k' " +
                        "have no lora_magnitude_vector; the config and the weights disagree on DoRA", d.GetMessage());
    }

    [Fact]
    public void TargetedLayersWithoutWeightsAreRefusedWhenPeftWouldLeaveThemRandom()
    {
        using var temp = new TempFolder();
        // The fixtures' configs say init_lora_weights = false: a targeted layer the weights do not cover keeps random weights.
        var d = Refused(temp, c => c["target_modules"] = new JsonArray("to_q", "to_k", "to_v", "to_out.0", "proj_in"));
        Assert.Matches(@"unet: adapter_config\.json targets \d+ layer\(s\) that the weights do not cover \(down_blocks\.1\.attentions\.0\.proj_in, .*\); " +
                       @"PEFT would give them randomly initialised LoRA weights \(init_lora_weights = false\)$", d.GetMessage());
    }

    [Fact]
    public void TargetModulesThatSelectNothingAreRefused()
    {
        using var temp = new TempFolder();
        var d = Refused(temp, c => c["target_modules"] = new JsonArray("no_such_layer"));
        Assert.EndsWith("unet: target modules [\"no_such_layer\"] not found in the base model (PEFT: \"Please check the target modules and try again.\")", d.GetMessage());
    }

    // ---------------- what the runtime warns about: LSDK020 ----------------

    [Fact]
    public void ModulesTheConfigDoesNotTargetAreNotLoadedAndTargetsWithoutWeightsAreWarnedAbout()
    {
        using var temp = new TempFolder();
        WriteFolder(temp.File("models/narrow"), IkeaModules(), c =>
        {
            c["target_modules"] = new JsonArray("to_q", "to_k", "proj_in");
            c["init_lora_weights"] = true;
            c["fan_in_fan_out"] = true;
        });
        var built = Build(temp, Manifest(Entry("Narrow", "models", "narrow")));
        var ds = Only(built.Outcome, "LSDK020", 3);
        Assert.All(ds, d =>
        {
            Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
            At(d, built.Manifest, 8, "\"models\"", built.ManifestPath);
            Assert.StartsWith("Adapter 'Narrow': the PEFT adapter folder 'models/narrow': ", d.GetMessage());
        });
        Assert.Contains("fan_in_fan_out = true: changes nothing here", ds[0].GetMessage());
        var (_, ranks) = Oracle(temp.File("models/narrow"));
        var targeted = ranks.Keys.Where(m => m.EndsWith(".to_q", StringComparison.Ordinal) || m.EndsWith(".to_k", StringComparison.Ordinal)).ToList();
        Assert.Matches($@"^Adapter 'Narrow': the PEFT adapter folder 'models/narrow': unet: {ranks.Count - targeted.Count} module\(s\) in the weights are not selected by " +
                       @"adapter_config\.json \(target_modules \[""to_q"", ""to_k"", ""proj_in""\]\); PEFT ignores their keys, so they are not loaded: .*\.to_v, ", ds[1].GetMessage());
        Assert.Matches(@"unet: adapter_config\.json targets \d+ layer\(s\) that the weights do not cover \(down_blocks\.1\.attentions\.0\.proj_in, .*\); PEFT warns " +
                       @"""Found missing adapter keys"" and gives them a zero delta, so they are left without the adapter$", ds[2].GetMessage());

        // The typed adapter lists what loads: to_q and to_k only.
        var unet = Adapters(built.Outcome, "Narrow")["Narrow"].GetComponent("unet")!;
        Assert.Equal(targeted, unet.TargetModules);
        Assert.Equal(targeted.Count, unet.ModuleCount);
        Assert.True(targeted.Count > 0 && targeted.Count < ranks.Count);
    }

    [Fact]
    public void AMalformedConfigValueTakesPeftsDefaultWithAWarning()
    {
        using var temp = new TempFolder();
        WriteFolder(temp.File("models/odd"), IkeaModules(), c => c["lora_alpha"] = "high");
        var built = Build(temp, Manifest(Entry("Odd", "models", "odd")));
        var d = Only(built.Outcome, "LSDK020").Single();
        Assert.Equal("Adapter 'Odd': the PEFT adapter folder 'models/odd': adapter_config.json: 'lora_alpha' is not a number; using PEFT's default 8", d.GetMessage());
        var adapter = Adapters(built.Outcome, "Odd")["Odd"];
        Assert.Equal((8.0, 2.0), (adapter.Alpha, adapter.Scaling));
    }

    // ---------------- what is not there: LSDK002 / LSDK003 ----------------

    [Fact]
    public void MissingConfigOrWeightsOrSubfolderAreLocatedErrors()
    {
        using var temp = new TempFolder();
        string weightsOnly = temp.File("models/weights-only");
        Directory.CreateDirectory(weightsOnly);
        File.Copy(Path.Combine(AdFolder("ikea"), "ikea", "adapter_model.safetensors"), Path.Combine(weightsOnly, "adapter_model.safetensors"));
        string configOnly = temp.File("models/config-only");
        Directory.CreateDirectory(configOnly);
        File.Copy(Path.Combine(AdFolder("ikea"), "ikea", "adapter_config.json"), Path.Combine(configOnly, "adapter_config.json"));
        var built = Build(temp, Manifest(string.Join(",\n",
            Entry("NoConfig", "models", "weights-only"),
            Entry("NoWeights", "models", "config-only"),
            Entry("NoSuchAdapter", "models", "nope"),
            Entry("Root", AdFolder("ikea")),
            Entry("ConfigOnlyFolder", "models/config-only"))));
        var ds = Only(built.Outcome, "LSDK002", 5);
        Assert.Equal($"Adapter 'NoConfig': file 'models' has in subfolder 'weights-only' no PEFT adapter folder ('{weightsOnly}' has no adapter_config.json beside " +
                     "adapter_model.safetensors (name that file in \"file\", without \"subfolder\", if it carries its own metadata))", ds[0].GetMessage());
        At(ds[0], built.Manifest, 8, "\"weights-only\"", built.ManifestPath);
        Assert.Equal($"Adapter 'NoWeights': file 'models' has in subfolder 'config-only' a PEFT adapter folder without weights ('{configOnly}' has " +
                     "adapter_config.json but no adapter_model.safetensors; it holds no .safetensors file)", ds[1].GetMessage());
        At(ds[1], built.Manifest, 9, "\"config-only\"", built.ManifestPath);
        Assert.Equal("Adapter 'NoSuchAdapter': file 'models' has no subfolder 'nope' (its PEFT adapter subfolders: config-only)", ds[2].GetMessage());
        At(ds[2], built.Manifest, 10, "\"nope\"", built.ManifestPath);
        // PEFT's save_pretrained layout for an adapter not named "default": the root holds the adapter in a subfolder.
        Assert.Equal($"Adapter 'Root': file '{AdFolder("ikea")}' names the folder '{AdFolder("ikea")}', which holds no .safetensors file itself but PEFT " +
                     "adapter subfolders (ikea), as PeftModel.save_pretrained writes adapters not named 'default'; add \"subfolder\": \"ikea\"", ds[3].GetMessage());
        At(ds[3], built.Manifest, 11, Q(AdFolder("ikea")), built.ManifestPath);
        Assert.Equal($"Adapter 'ConfigOnlyFolder': file 'models/config-only' names the folder '{configOnly}', which holds no .safetensors file " +
                     "(nor is it a PEFT adapter folder with adapter_config.json and adapter_model.safetensors)", ds[4].GetMessage());
        At(ds[4], built.Manifest, 12, "\"models/config-only\"", built.ManifestPath);
        Assert.Empty(built.Task.AdapterFiles);
    }

    [Fact]
    public void PickledPeftWeightsAreNeverRead()
    {
        using var temp = new TempFolder();
        string folder = temp.File("models/pickled");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(AdFolder("ikea"), "ikea", "adapter_config.json"), Path.Combine(folder, "adapter_config.json"));
        File.WriteAllText(Path.Combine(folder, "adapter_model.bin"), "pickle");
        var built = Build(temp, Manifest(Entry("Pickled", "models", "pickled")));
        var d = Only(built.Outcome, "LSDK003").Single();
        Assert.Contains("holds PEFT adapter weights saved with pickle (safe_serialization=False), which are never loaded", d.GetMessage());
        At(d, built.Manifest, 8, "\"models\"", built.ManifestPath);
    }

    // ---------------- incrementality ----------------

    [Fact]
    public void AnEditedAdapterConfigChangesTheGeneratedAdapterAndItsCopy()
    {
        using var temp = new TempFolder();
        string folder = temp.File("models/ikea");
        Directory.CreateDirectory(folder);
        foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors" })
            File.Copy(Path.Combine(AdFolder("ikea"), "ikea", f), Path.Combine(folder, f));
        string manifest = temp.Write("adapters.manifest", Manifest(Entry("Ikea", "models/ikea") + ",\n" + Entry("Feng", AdFolder("feng"), "feng")));
        var (first, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((2, 4, 2), (first.HeadersRead, first.FilesHashed, first.SidecarsWritten));
        var texts = BuildStep.AdditionalFiles(manifest, first);
        var compilation = GeneratorHarness.Compilation("class A { }");
        var driver = GeneratorHarness.CreateDriver(texts).RunGenerators(compilation);
        string Source(GeneratorDriver d) => d.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "Demo.Adapters.Ikea.g.cs").SourceText.ToString();
        string before = Source(driver);
        Assert.Contains("public override double Alpha => 8d;", before);

        // A warm build reads and hashes nothing and leaves the sidecars alone.
        var (warm, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((0, 0, 0), (warm.HeadersRead, warm.FilesHashed, warm.SidecarsWritten));

        // Another base model (same files): read again against the new layouts, the hashes are reused.
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"name\": \"TinySdxl\"", "\"name\": \"TinySdxl2\""));
        var (rebased, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((2, 0, 2), (rebased.HeadersRead, rebased.FilesHashed, rebased.SidecarsWritten));
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"name\": \"TinySdxl2\"", "\"name\": \"TinySdxl\""));
        var (back, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((2, 0, 2), (back.HeadersRead, back.FilesHashed, back.SidecarsWritten));

        // lora_alpha 8 → 16 in the config only: the folder is hashed and read again, its sidecar rewritten; the weights are untouched.
        string configPath = Path.Combine(folder, "adapter_config.json");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"lora_alpha\": 8,", "\"lora_alpha\": 16,"));
        var (edited, _) = BuildStep.Inspect(manifest, temp.File("obj"));
        Assert.Equal((1, 2, 1), (edited.HeadersRead, edited.FilesHashed, edited.SidecarsWritten));
        var ikeaSidecar = edited.Sidecars.Single(s => s.GetMetadata("LoraSdkAdapterFile") == "models/ikea").ItemSpec;
        var old = texts.Single(t => t.Path == ikeaSidecar);
        driver = driver.ReplaceAdditionalText(old, new InMemoryAdditionalText(old.Path, File.ReadAllText(ikeaSidecar)));
        driver = driver.RunGenerators(compilation);

        var result = driver.GetRunResult().Results.Single();
        var adapterSteps = result.TrackedSteps[TrackingNames.Adapter].SelectMany(s => s.Outputs.Select(o => o.Reason)).ToList();
        Assert.Equal(IncrementalStepRunReason.Modified, adapterSteps[0]);
        Assert.True(adapterSteps[1] is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, adapterSteps[1].ToString());
        string after = Source(driver);
        Assert.Contains("public override double Alpha => 16d;", after);
        Assert.Contains("public override double Scaling => 4d;", after);
        Assert.Contains($"public override string Sha256 => \"{FolderHash(folder)}\";", after);
        Assert.Contains($"public override string RuntimePath => \"loras/{FolderHash(folder).Substring(0, 16)}/ikea\";", after);
        Assert.NotEqual(FolderHash(Path.Combine(AdFolder("ikea"), "ikea")), FolderHash(folder));
        // The new content is copied to its new content-addressed folder.
        Assert.Contains(edited.AdapterFiles, f => f.ItemSpec == configPath && f.GetMetadata("TargetPath").Replace('\\', '/') == $"loras/{FolderHash(folder).Substring(0, 16)}/ikea/adapter_config.json");
    }
}
