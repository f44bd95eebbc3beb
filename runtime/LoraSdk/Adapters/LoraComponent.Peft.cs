using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>PEFT's adapter name when none is given (<c>PeftModel.from_pretrained(…, adapter_name="default")</c>).</summary>
    public const string PeftDefaultAdapterName = "default";

    /// <summary>The key prefix PEFT's <c>save_pretrained</c> puts before every module path of a <c>PeftModel</c>.</summary>
    public const string PeftKeyPrefix = PeftTargetSelection.KeyPrefix;

    /// <summary>
    /// PEFT's <c>PeftModel.from_pretrained(model, path, subfolder=…, adapter_name=…)</c> / <c>load_adapter</c> on this
    /// model: loads the adapter folder <paramref name="path"/>[/<paramref name="subfolder"/>]
    /// (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>) under <paramref name="adapterName"/> (PEFT's
    /// "default" when null). The config decides ranks, alphas (<c>lora_alpha</c>, patterns, rsLoRA) and which layers
    /// get the adapter (<see cref="PeftTargetModules"/>); fields the SDK does not implement are refused
    /// (<see cref="PeftConfigPolicy"/>). Like <see cref="LoadLoraAdapter"/> — and unlike PEFT's <c>load_adapter</c> —
    /// the loaded adapter becomes the active one. Everything is checked before anything changes.
    /// </summary>
    /// <returns>What was loaded and what was left out (warnings name modules PEFT would ignore or leave at zero).</returns>
    public LoraLoadResult LoadPeftAdapter(string path, string? subfolder = null, string? adapterName = null, LoraLoadOptions? options = null)
    {
        options ??= LoraLoadOptions.Default;
        using var source = LoraFileSource.OpenPeftFolder(path, subfolder, options);
        var (unmapped, skipped) = source.Check(options);
        var components = source.Components;
        if (components.Count == 0)
        {
            throw new LoraException(LoraErrorKind.NothingToLoad,
                $"{source.SourceName}: nothing to load: no key maps to a LoRA module (unmapped keys: {unmapped.Count}).", sourceName: source.SourceName);
        }
        if (components.Count > 1)
        {
            throw new LoraException(LoraErrorKind.NothingToLoad,
                $"{source.SourceName}: a PEFT adapter adapts one model, but its keys map to {string.Join(" and ", components)}; load it with LoadLoraWeights.",
                sourceName: source.SourceName);
        }
        var warnings = source.Model.Warnings.Select(w => $"{source.SourceName}: {w}").ToList();
        if (unmapped.Count > 0)
            warnings.Add($"{source.SourceName}: {unmapped.Count} key(s) map to no module and were not loaded: {string.Join(", ", unmapped.Take(20))}{(unmapped.Count > 20 ? ", ..." : "")}");
        string name = adapterName ?? PeftDefaultAdapterName;
        var modules = SelectPeftTargets(source, source.ModulesFor(components[0]), warnings, name);
        using var prepared = Prepare(source.SourceName, modules, source.PeftConfig, name, hotswap: false);
        Commit(prepared);
        return new LoraLoadResult(source.SourceName, new Dictionary<string, string> { [Name] = prepared.AdapterName },
            new Dictionary<string, int> { [Name] = prepared.Modules.Count }, unmapped, skipped, Array.Empty<string>(), warnings, false);
    }

    /// <summary>
    /// What PEFT does with a PEFT folder's weights on this model (<see cref="PeftTargetSelection"/>, the rule the build
    /// task predicts with): only the modules its config selects are kept; the first refusal is thrown as a
    /// <see cref="LoraException"/> (a rank that is not the config's: <see cref="LoraErrorKind.ShapeMismatch"/>;
    /// <c>use_dora</c> and the weights disagreeing: <see cref="LoraErrorKind.UnsupportedConfig"/>; targeted layers PEFT
    /// would leave random: <see cref="LoraErrorKind.AdapterConfigMismatch"/>; nothing selected or covered:
    /// <see cref="LoraErrorKind.NothingToLoad"/>), the warnings are added to <paramref name="warnings"/>.
    /// </summary>
    internal List<LoraModuleInput> SelectPeftTargets(LoraFileSource source, List<LoraModuleInput> modules, List<string> warnings, string? adapterName)
    {
        var config = source.PeftConfig ?? throw new InvalidOperationException("not a PEFT adapter folder");
        string configFile = Path.GetFileName(source.PeftConfigPath!);
        var described = new List<PeftWeightModule>(modules.Count);
        foreach (var input in modules)
        {
            var slot = ResolveSite(input.Path);
            described.Add(new PeftWeightModule(input.Path, PeftNames(input.Path, slot), slot is null || !slot.IsConvolution, input.Rank, input.AShape,
                input.MagnitudeKey is not null, slot?.Path));
        }
        var layers = _sites.Select(s => new PeftModelLayer(s.Path, PeftNames(s.Path, s), !s.IsConvolution)).ToList();
        var selection = PeftTargetSelection.Select(config, configFile, Name, described, layers);
        if (selection.FirstRefusal is { } refusal)
        {
            var kind = refusal.Kind switch
            {
                PeftTargetFindingKind.RankMismatch => LoraErrorKind.ShapeMismatch,
                PeftTargetFindingKind.DoraMismatch => LoraErrorKind.UnsupportedConfig,
                PeftTargetFindingKind.UncoveredLayersRandom => LoraErrorKind.AdapterConfigMismatch,
                _ => LoraErrorKind.NothingToLoad,
            };
            throw new LoraException(kind, $"{source.SourceName}: {refusal.Message}", adapterName: adapterName, modulePath: refusal.ModulePath,
                sourceName: source.SourceName, component: Name);
        }
        foreach (var warning in selection.Findings) warnings.Add($"{source.SourceName}: {warning.Message}");
        var kept = new HashSet<PeftWeightModule>(selection.Kept);
        return modules.Where((_, i) => kept.Contains(described[i])).ToList();
    }

    /// <summary>The names PEFT may know a layer by: its path in the file, the component's path and the original model's path.</summary>
    private IReadOnlyList<string> PeftNames(string sourcePath, LayerSite? slot)
    {
        var names = new List<string> { sourcePath };
        void Add(string? n)
        {
            if (n is not null && !names.Contains(n)) names.Add(n);
        }
        if (slot is not null)
        {
            Add(slot.Path);
            Add(Options.SavedModulePathMap?.Invoke(slot.Path));
        }
        if (Kind == LoraComponentKind.TextEncoder) Add("text_model." + sourcePath);
        return names;
    }

    /// <summary>
    /// PEFT's <c>PeftModel.save_pretrained(saveDirectory, selected_adapters=[adapterName])</c> for one adapter: the
    /// adapter folder (<paramref name="saveDirectory"/> itself for "default", else its subfolder named by the adapter)
    /// gets <c>adapter_model.safetensors</c> (keys <c>base_model.model.&lt;module&gt;.lora_A.weight</c> /
    /// <c>.lora_B.weight</c>, metadata <c>{"format": "pt"}</c>) and <c>adapter_config.json</c> (the adapter's PEFT config
    /// with <c>inference_mode</c> true, as PEFT writes it); <paramref name="saveDirectory"/> gets a minimal model card
    /// (<c>README.md</c>) unless it has one. <c>PeftModel.from_pretrained</c> and <see cref="LoadPeftAdapter"/> load it.
    /// </summary>
    /// <returns>The adapter folder written.</returns>
    public string SavePeftAdapter(string saveDirectory, string adapterName = PeftDefaultAdapterName, bool upcastBeforeSaving = false) =>
        SavePeftAdapters(saveDirectory, new[] { adapterName }, upcastBeforeSaving)[0];

    /// <summary>
    /// PEFT's <c>PeftModel.save_pretrained(saveDirectory, selected_adapters)</c>: every adapter of
    /// <paramref name="adapterNames"/> (default: all, in load order) in PEFT's layout (see <see cref="SavePeftAdapter"/>).
    /// Each file is written to a temporary name and renamed into place; the config is renamed last.
    /// </summary>
    /// <returns>The adapter folders written, in order.</returns>
    public IReadOnlyList<string> SavePeftAdapters(string saveDirectory, IReadOnlyList<string>? adapterNames = null, bool upcastBeforeSaving = false)
    {
        if (string.IsNullOrWhiteSpace(saveDirectory)) throw new ArgumentException("a folder is required", nameof(saveDirectory));
        var names = adapterNames ?? ListAdapters();
        var unknown = names.Where(n => !_registry.Contains(n)).ToList();
        if (unknown.Count > 0 || names.Count == 0)
        {
            throw new LoraException(LoraErrorKind.AdapterNotFound,
                $"You passed an invalid `selected_adapters` arguments, current supported adapter names are {PythonList(ListAdapters())} - got {PythonList(names)}.",
                adapterName: unknown.FirstOrDefault(), component: Name);
        }
        if (File.Exists(saveDirectory))
            throw new ArgumentException($"Provided path ({saveDirectory}) should be a directory, not a file", nameof(saveDirectory));
        Directory.CreateDirectory(saveDirectory);
        WritePeftModelCard(saveDirectory);
        var written = new List<string>();
        foreach (var name in names)
        {
            string folder = name == PeftDefaultAdapterName ? saveDirectory : Path.Combine(saveDirectory, name);
            Directory.CreateDirectory(folder);
            string weights = Path.Combine(folder, LoraSourceLocator.PeftWeightsName);
            string config = Path.Combine(folder, LoraSourceLocator.PeftConfigName);
            using (var scope = torch.NewDisposeScope())
            {
                var tensors = StateDict(name, PeftKeyPrefix, upcastBeforeSaving);
                SafetensorsWriter.Save(weights, tensors, new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" });
            }
            WriteAtomically(config, PeftConfigJson(name));
            written.Add(folder);
        }
        return written;
    }

    /// <summary>The <c>adapter_config.json</c> PEFT's <c>save_pretrained</c> writes for adapter <paramref name="adapterName"/>.</summary>
    private string PeftConfigJson(string adapterName)
    {
        var dict = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in SavedConfig(adapterName).ToDict()) dict[kv.Key] = kv.Value;
        dict["inference_mode"] = true;
        if (dict.TryGetValue("task_type", out var taskType) && taskType is null && (!dict.TryGetValue("auto_mapping", out var mapping) || mapping is null))
            dict["auto_mapping"] = PeftAutoMapping.For(Module);
        // PEFT writes json.dumps(indent=2, sort_keys=True) without a trailing newline.
        return PythonJsonWriter.Dumps(dict);
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(PythonRepr.String)) + "]";

    private static void WritePeftModelCard(string folder)
    {
        string path = Path.Combine(folder, "README.md");
        if (File.Exists(path)) return;
        WriteAtomically(path,
            "---\nlibrary_name: peft\ntags:\n- lora\n---\n\n# LoRA adapter\n\n" +
            "Written by LoraSdk in the layout of PEFT's `PeftModel.save_pretrained`: `adapter_config.json` and " +
            "`adapter_model.safetensors` here for the adapter named `default`, in a subfolder named after every other adapter. " +
            "Load one with `PeftModel.from_pretrained(model, folder, subfolder=<adapter>)`.\n\n### Framework versions\n\n- PEFT " +
            LoraAdapterConfig.DefaultPeftVersion.Split('@')[0] + " (layout)\n");
    }

    private static void WriteAtomically(string path, string text)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "." + Path.GetFileName(path) + ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(tmp, text, new System.Text.UTF8Encoding(false));
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }
}
