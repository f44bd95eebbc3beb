using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// PEFT adapter folders on a model (<see cref="LoraComponent.LoadPeftAdapter"/>): <c>adapter_config.json</c> decides
/// ranks, alphas and rsLoRA; PEFT's target selection (<c>target_modules</c> lists and patterns, <c>exclude_modules</c>,
/// <c>layers_to_transform</c> / <c>layers_pattern</c>) decides which layers get the adapter, with PEFT's outcome for
/// untargeted keys and for targeted layers without keys; every field the SDK does not implement is refused by name
/// before anything changes; <see cref="LoraComponent.SavePeftAdapters"/> writes PEFT's layout back.
/// </summary>
public sealed class PeftAdapterFolderTests
{
    private const string Prefix = "base_model.model.";

    /// <summary>A PEFT adapter folder for <see cref="TinyModel"/>: the given modules at rank <paramref name="rank"/> (conv1 at <paramref name="convRank"/>) and a config of PEFT's fields.</summary>
    private static string Folder(TempDir dir, string name, IDictionary<string, string> configFields, int rank = 4, int? convRank = null,
        IEnumerable<string>? modules = null)
    {
        string folder = Path.Combine(dir.Path, name);
        Directory.CreateDirectory(folder);
        var wanted = (modules ?? new[] { TinyModel.ProjIn, TinyModel.ProjOut, TinyModel.Conv1 }).ToHashSet();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var g = new Generator(11))
        {
            foreach (var (path, down, up) in TinyModel.Shapes(rank))
            {
                if (!wanted.Contains(path)) continue;
                int r = path == TinyModel.Conv1 && convRank is int c ? c : rank;
                down[0] = r;
                up[1] = r;
                tensors.Add(new(Prefix + path + ".lora_A.weight", randn(down, generator: g).mul_(0.3)));
                tensors.Add(new(Prefix + path + ".lora_B.weight", randn(up, generator: g).mul_(0.3)));
            }
        }
        SafetensorsWriter.Save(Path.Combine(folder, "adapter_model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var t in tensors) t.Value.Dispose();
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["peft_type"] = "\"LORA\"", ["r"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture), ["lora_alpha"] = "8",
            ["target_modules"] = "[\"proj_in\", \"proj_out\", \"conv1\"]", ["init_lora_weights"] = "false", ["bias"] = "\"none\"",
        };
        foreach (var kv in configFields) fields[kv.Key] = kv.Value;
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"),
            "{\n" + string.Join(",\n", fields.Select(kv => $"  \"{kv.Key}\": {kv.Value}")) + "\n}");
        return folder;
    }

    private static Dictionary<string, double> Scalings(LoraComponent c, string adapter) =>
        c.GetScalings().Where(l => l.Value.Any(s => s.Key == adapter)).ToDictionary(l => l.Key, l => l.Value.Single(s => s.Key == adapter).Value);

    [Fact]
    public void TheConfigDecidesAlphasRankPatternsAndRsLora()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string>
        {
            ["lora_alpha"] = "8", ["alpha_pattern"] = "{\"proj_out\": 2}", ["rank_pattern"] = "{\"conv1\": 2}", ["use_rslora"] = "true",
        }, rank: 4, convRank: 2);
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var result = c.LoadPeftAdapter(folder, adapterName: "a");
        Assert.Empty(result.Warnings);
        Assert.Equal(3, result.ModuleCounts["unet"]);
        var s = Scalings(c, "a");
        Assert.Equal(8 / Math.Sqrt(4), s[TinyModel.ProjIn]);
        Assert.Equal(2 / Math.Sqrt(4), s[TinyModel.ProjOut]);
        Assert.Equal(8 / Math.Sqrt(2), s[TinyModel.Conv1]);
        Assert.True(c.GetAdapterConfig("a").UseRsLora);
    }

    [Theory]
    [InlineData("bias", "\"all\"", "base layers' biases")]
    [InlineData("bias", "\"lora_only\"", "base layers' biases")]
    [InlineData("modules_to_save", "[\"conv_out\"]", "replaces whole modules")]
    [InlineData("lora_bias", "true", "bias to lora_B")]
    [InlineData("target_parameters", "[\"mid_block.attentions.0.proj_in.weight\"]", "applies LoRA to parameters")]
    [InlineData("trainable_token_indices", "[0, 1]", "embedding rows")]
    [InlineData("layer_replication", "[[0, 1]]", "duplicates model layers")]
    [InlineData("use_qalora", "true", "QALoRA")]
    [InlineData("use_bdlora", "{\"nblocks\": 2}", "LoRA variant (use_bdlora)")]
    [InlineData("alora_invocation_tokens", "[5, 6]", "LoRA variant (alora_invocation_tokens)")]
    [InlineData("velora_config", "{}", null)]
    [InlineData("init_lora_weights", "\"pissa\"", "rewrite the base layers' weights")]
    [InlineData("init_lora_weights", "\"olora\"", "rewrite the base layers' weights")]
    [InlineData("init_lora_weights", "\"mica\"", "MiCA")]
    [InlineData("peft_type", "\"LOHA\"", "only peft_type \"LORA\"")]
    [InlineData("a_field_of_a_newer_peft", "3", "is not a field of PEFT 0.20.1's LoraConfig")]
    public void FieldsTheSdkDoesNotImplementAreRefusedByNameAndChangeNothing(string field, string value, string? reason)
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { [field] = value });
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var before = LoraTestData.Checksums(c);
        if (reason is null)
        {
            // An empty variant config is the field's "not used" value: nothing to refuse.
            c.LoadPeftAdapter(folder, adapterName: "a");
            Assert.Equal(new[] { "a" }, c.ListAdapters());
            return;
        }
        var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(folder, adapterName: "a"));
        Assert.Equal(LoraErrorKind.UnsupportedConfig, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Unsupported, e.Category);
        Assert.StartsWith(Path.Combine(folder, "adapter_config.json") + ": " + field + " = ", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void UseDoraWithoutMagnitudeVectorsIsRefusedAndChangesNothing()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { ["use_dora"] = "true" });
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var before = LoraTestData.Checksums(c);
        var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(folder, adapterName: "a"));
        Assert.Equal(LoraErrorKind.UnsupportedConfig, e.Kind);
        Assert.Contains("use_dora = true", e.Message);
        Assert.Contains("no lora_magnitude_vector", e.Message);
        Assert.Empty(c.ListAdapters());
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void FanInFanOutIsReportedAsPeftTreatsIt()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { ["fan_in_fan_out"] = "true", ["lora_dropout"] = "0.1" });
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var result = c.LoadPeftAdapter(folder, adapterName: "a");
        Assert.Equal(3, result.ModuleCounts["unet"]);
        Assert.Contains(result.Warnings, w => w.Contains("fan_in_fan_out = true: changes nothing here", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("lora_dropout", StringComparison.Ordinal));
    }

    [Fact]
    public void KeysOfModulesTheConfigDoesNotTargetAreIgnoredAsPeftDoesAndReported()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { ["target_modules"] = "[\"proj_in\", \"proj_out\"]" });
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var result = c.LoadPeftAdapter(folder, adapterName: "a");
        Assert.Equal(new[] { TinyModel.ProjIn, TinyModel.ProjOut }, c.GetAdapterModulePaths("a"));
        Assert.Contains(result.Warnings, w => w.Contains("not selected by adapter_config.json", StringComparison.Ordinal) && w.Contains(TinyModel.Conv1, StringComparison.Ordinal));
    }

    [Fact]
    public void TargetedLayersWithoutKeysAreRefusedWhenPeftWouldInitialiseThemAtRandom()
    {
        using var dir = new TempDir();
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        string random = Folder(dir, "random", new Dictionary<string, string> { ["init_lora_weights"] = "false" }, modules: new[] { TinyModel.ProjIn });
        var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(random, adapterName: "a"));
        Assert.Equal(LoraErrorKind.AdapterConfigMismatch, e.Kind);
        Assert.Contains(TinyModel.ProjOut, e.Message);
        Assert.Contains("randomly initialised", e.Message);
        Assert.Empty(c.ListAdapters());

        // init_lora_weights true (PEFT's default): such a layer gets lora_B = 0, a zero delta; PEFT warns "Found missing adapter keys".
        string zero = Folder(dir, "zero", new Dictionary<string, string> { ["init_lora_weights"] = "true" }, modules: new[] { TinyModel.ProjIn });
        var result = c.LoadPeftAdapter(zero, adapterName: "a");
        Assert.Equal(new[] { TinyModel.ProjIn }, c.GetAdapterModulePaths("a"));
        Assert.Contains(result.Warnings, w => w.Contains("Found missing adapter keys", StringComparison.Ordinal) && w.Contains(TinyModel.Conv1, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"target_modules\": \".*\\\\.proj_(in|out)\"", new[] { TinyModel.ProjIn, TinyModel.ProjOut })]
    [InlineData("\"target_modules\": \"all-linear\"", new[] { TinyModel.ProjIn, TinyModel.ProjOut })]
    [InlineData("\"exclude_modules\": [\"proj_out\"]", new[] { TinyModel.ProjIn, TinyModel.Conv1 })]
    [InlineData("\"exclude_modules\": \".*conv.*\"", new[] { TinyModel.ProjIn, TinyModel.ProjOut })]
    [InlineData("\"layers_to_transform\": [0]", new[] { TinyModel.ProjIn, TinyModel.ProjOut, TinyModel.Conv1 })]
    [InlineData("\"layers_to_transform\": 1", new string[0])]
    [InlineData("\"layers_to_transform\": [0], \"layers_pattern\": \"resnets\"", new[] { TinyModel.Conv1 })]
    [InlineData("\"layers_to_transform\": [0], \"layers_pattern\": [\"resnets\", \"attentions\"]", new[] { TinyModel.ProjIn, TinyModel.ProjOut, TinyModel.Conv1 })]
    public void PeftsTargetSelectionDecidesWhichLayersGetTheAdapter(string fields, string[] expected)
    {
        using var dir = new TempDir();
        var extra = new Dictionary<string, string>();
        foreach (var part in SplitFields(fields)) extra[part.Key] = part.Value;
        string folder = Folder(dir, "a", extra);
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        if (expected.Length == 0)
        {
            var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(folder, adapterName: "a"));
            Assert.Equal(LoraErrorKind.NothingToLoad, e.Kind);
            Assert.Contains("Target modules [\"proj_in\", \"proj_out\", \"conv1\"] not found in the base model. Please check the target modules and try again. " +
                "Note: You specified 'layers_to_transform': 1.", e.Message);
            Assert.Empty(c.ListAdapters());
            return;
        }
        c.LoadPeftAdapter(folder, adapterName: "a");
        Assert.Equal(expected, c.GetAdapterModulePaths("a"));
    }

    [Fact]
    public void ARankThatContradictsTheConfigIsPeftsSizeMismatch()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { ["r"] = "8" }, rank: 4);
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(folder, adapterName: "a"));
        Assert.Equal(LoraErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains($"size mismatch for base_model.model.{TinyModel.ProjIn}.lora_A.weight: copying a param with shape [4, 8] from checkpoint, the shape in current model is [8, 8]", e.Message);
        Assert.Empty(c.ListAdapters());
    }

    [Fact]
    public void TheTargetSelectionsRefusalsAreThrownWithTheirKindAndTheSharedText()
    {
        using var dir = new TempDir();
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var before = LoraTestData.Checksums(c);

        // use_dora without lora_magnitude_vector tensors: the config and the weights disagree (named: the first module, by path).
        string dora = Folder(dir, "dora", new Dictionary<string, string> { ["use_dora"] = "true" });
        var e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(dora, adapterName: "a"));
        Assert.Equal(LoraErrorKind.UnsupportedConfig, e.Kind);
        Assert.Equal(TinyModel.ProjIn, e.ModulePath);
        Assert.Equal("unet", e.Component);
        Assert.Equal("a", e.AdapterName);
        Assert.Equal($"{e.SourceName}: adapter_config.json has use_dora = true, but the weights of '{TinyModel.ProjIn}' have no lora_magnitude_vector; " +
                     "the config and the weights disagree on DoRA.", e.Message);

        // The weights cover none of the layers the config targets: each would get a zero delta, so there is nothing to load.
        string none = Folder(dir, "none", new Dictionary<string, string> { ["target_modules"] = "[\"proj_out\"]", ["init_lora_weights"] = "true" },
            modules: new[] { TinyModel.ProjIn });
        e = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(none, adapterName: "a"));
        Assert.Equal(LoraErrorKind.NothingToLoad, e.Kind);
        Assert.Null(e.ModulePath);
        Assert.Equal($"{e.SourceName}: the weights cover none of the 1 unet layer(s) adapter_config.json targets; there is nothing to load.", e.Message);

        Assert.Empty(c.ListAdapters());
        Assert.Equal(before, LoraTestData.Checksums(c));
    }

    [Fact]
    public void SavePeftAdaptersWritesPeftsLayoutThatLoadsBackIdentically()
    {
        using var dir = new TempDir();
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        c.AddAdapter("default", LoraTestData.Adapter(4, 8, seed: 3));
        c.AddAdapter("style", LoraTestData.Adapter(2, 1, seed: 4, paths: new[] { TinyModel.ProjIn }));
        var (x, image) = LoraTestData.Inputs();
        c.SetAdapters("style", 0.5);
        var (styleLinear, styleConv) = model.Run(x, image);
        c.SetAdapters("default", 1.0);
        var (defaultLinear, _) = model.Run(x, image);

        string root = Path.Combine(dir.Path, "saved");
        var folders = c.SavePeftAdapters(root);
        Assert.Equal(new[] { root, Path.Combine(root, "style") }, folders);
        Assert.True(File.Exists(Path.Combine(root, "README.md")));
        var config = JsonValue.Parse(File.ReadAllText(Path.Combine(root, "style", "adapter_config.json")));
        Assert.True(config["inference_mode"]!.AsBool());
        Assert.Equal("LORA", config["peft_type"]!.AsString());
        Assert.Equal(2, config["r"]!.AsInt64());
        Assert.Equal(1, config["lora_alpha"]!.AsInt64());
        Assert.False(File.ReadAllText(Path.Combine(root, "style", "adapter_config.json")).EndsWith("\n", StringComparison.Ordinal));
        var keys = SafetensorsHeader.Read(Path.Combine(root, "style", "adapter_model.safetensors")).Tensors.Select(t => t.Name).ToList();
        Assert.Equal(new[] { Prefix + TinyModel.ProjIn + ".lora_A.weight", Prefix + TinyModel.ProjIn + ".lora_B.weight" }, keys.OrderBy(k => k, StringComparer.Ordinal));

        using var model2 = new TinyModel();
        var c2 = LoraTestData.Component(model2);
        c2.LoadPeftAdapter(root);                           // "default" from the root
        c2.LoadPeftAdapter(root, subfolder: "style", adapterName: "style");
        Assert.Equal(new[] { "default", "style" }, c2.ListAdapters());
        c2.SetAdapters("default", 1.0);
        var (defaultLinear2, _) = model2.Run(x, image);
        c2.SetAdapters("style", 0.5);
        var (styleLinear2, styleConv2) = model2.Run(x, image);
        Assert.Equal(LoraTestData.Hash(defaultLinear), LoraTestData.Hash(defaultLinear2));
        Assert.Equal(LoraTestData.Hash(styleLinear), LoraTestData.Hash(styleLinear2));
        Assert.Equal(LoraTestData.Hash(styleConv), LoraTestData.Hash(styleConv2));

        var unknown = Assert.Throws<LoraException>(() => c.SavePeftAdapters(root, new[] { "nope" }));
        Assert.Equal(LoraErrorKind.AdapterNotFound, unknown.Kind);
        Assert.Contains("current supported adapter names are ['default', 'style'] - got ['nope']", unknown.Message);
    }

    [Fact]
    public void PeftFolderProblemsAreNamed()
    {
        using var dir = new TempDir();
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        string pickled = Path.Combine(dir.Path, "pickled");
        Directory.CreateDirectory(pickled);
        File.WriteAllText(Path.Combine(pickled, "adapter_config.json"), "{\"r\": 4}");
        File.WriteAllBytes(Path.Combine(pickled, "adapter_model.bin"), new byte[] { 0x80, 0x02 });
        var e = Assert.Throws<UnsupportedFileFormatException>(() => c.LoadPeftAdapter(pickled));
        Assert.Contains("adapter_model.bin", e.Message);
        Assert.Contains("never loaded", e.Message);

        string noConfig = Path.Combine(dir.Path, "no-config");
        Directory.CreateDirectory(noConfig);
        var missing = Assert.Throws<LoraException>(() => c.LoadPeftAdapter(noConfig));
        Assert.Equal(LoraErrorKind.SourceNotFound, missing.Kind);
        Assert.Contains("not a PEFT adapter folder: no adapter_config.json", missing.Message);
        Assert.Throws<ArgumentException>(() => c.LoadPeftAdapter(dir.Path, subfolder: "../x"));
        Assert.Empty(c.ListAdapters());
    }

    [Fact]
    public void LoadLoraAdapterOnAPeftFolderAppliesTheSameTargetSelection()
    {
        using var dir = new TempDir();
        string folder = Folder(dir, "a", new Dictionary<string, string> { ["target_modules"] = "[\"proj_in\"]" });
        using var model = new TinyModel();
        var c = LoraTestData.Component(model);
        var result = c.LoadLoraAdapter(folder, prefix: null, adapterName: "a");
        Assert.Equal(new[] { TinyModel.ProjIn }, c.GetAdapterModulePaths("a"));
        Assert.Contains(result.Warnings, w => w.Contains("not selected", StringComparison.Ordinal));
    }

    private static IEnumerable<KeyValuePair<string, string>> SplitFields(string fields)
    {
        var root = JsonValue.Parse("{" + fields + "}");
        foreach (var p in root.Properties) yield return new(p.Key, PythonJsonWriter.Dumps(PythonJsonWriter.FromJson(p.Value)));
    }
}
