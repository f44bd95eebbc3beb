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
    /// <summary>diffusers' default LoRA file name.</summary>
    public const string DefaultWeightName = "pytorch_lora_weights.safetensors";

    /// <summary>
    /// diffusers' <c>save_lora_adapter</c>: writes adapter <paramref name="adapterName"/> as
    /// <c>&lt;module&gt;.lora_A.weight</c> / <c>.lora_B.weight</c> with <c>__metadata__</c> <c>{"format": "pt",
    /// "lora_adapter_metadata": &lt;PEFT config JSON&gt;}</c>, exactly as diffusers writes it.
    /// </summary>
    /// <param name="saveDirectory">Directory (created if missing); a path to an existing file is an error.</param>
    /// <param name="adapterName">The adapter (diffusers' default "default"; null = diffusers' <c>get_adapter_name</c>).</param>
    /// <param name="upcastBeforeSaving">Write float32 tensors.</param>
    /// <param name="weightName">File name (default <see cref="DefaultWeightName"/>).</param>
    /// <returns>The path written.</returns>
    public string SaveLoraAdapter(string saveDirectory, string? adapterName = "default", bool upcastBeforeSaving = false, string? weightName = null)
    {
        string name = adapterName ?? DefaultAdapterName();
        if (!_registry.Contains(name))
            throw new LoraException(LoraErrorKind.AdapterNotFound, $"Adapter name {name} not found in the model.", adapterName: name, component: Name);
        if (File.Exists(saveDirectory))
            throw new ArgumentException($"Provided path ({saveDirectory}) should be a directory, not a file", nameof(saveDirectory));
        Directory.CreateDirectory(saveDirectory);
        string path = Path.Combine(saveDirectory, weightName ?? DefaultWeightName);
        using var scope = torch.NewDisposeScope();
        var tensors = StateDict(name, prefix: null, upcastBeforeSaving);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [LoraAdapterConfig.MetadataKey] = SavedConfig(name).ToJson(),
        };
        SafetensorsWriter.Save(path, tensors, metadata);
        return path;
    }

    /// <summary>
    /// PEFT's <c>get_peft_model_state_dict</c> of one adapter: <c>[prefix.]&lt;module&gt;.lora_A.weight</c>,
    /// <c>.lora_B.weight</c> (and each variant's other tensors, e.g. DoRA's <c>lora_magnitude_vector</c>) in module order, at
    /// the adapter's real rank — hotswap storage is zero-padded to the target rank, and the padding is not part of the
    /// adapter (diffusers saves it, and its metadata then contradicts the tensors) — and without the layers a hotswap
    /// left vacant. The tensors are the live ones or views of them (float32 copies when upcasting), in the caller's
    /// dispose scope.
    /// </summary>
    internal List<KeyValuePair<string, Tensor>> StateDict(string adapterName, string? prefix, bool upcast)
    {
        var record = _registry.Get(adapterName, Name);
        var result = new List<KeyValuePair<string, Tensor>>();
        foreach (var slot in SavedSlots(record))
        {
            string module = (prefix is null ? "" : prefix + ".") + SavedPath(record, slot);
            foreach (var (suffix, tensor) in slot.Adapters!.GetAdapter(adapterName).SavedTensors(upcast))
                result.Add(new KeyValuePair<string, Tensor>(module + "." + suffix, tensor));
        }
        return result;
    }

    /// <summary>The config written with adapter <paramref name="adapterName"/>: its own, made to agree with the saved tensors.</summary>
    internal LoraAdapterConfig SavedConfig(string adapterName)
    {
        var record = _registry.Get(adapterName, Name);
        var modules = SavedSlots(record).Select(slot =>
        {
            var w = slot.Adapters!.GetAdapter(adapterName);
            return (SavedPath(record, slot), w.ConfiguredRank, w.Alpha);
        }).ToList();
        return modules.Count == 0 ? record.Config : record.Config.AgreeingWith(modules, Kind == LoraComponentKind.Denoiser);
    }

    private static IEnumerable<LayerSite> SavedSlots(LoraAdapterRecord record) => record.Sites.Where(s => !record.Vacant.Contains(s));

    private string SavedPath(LoraAdapterRecord record, LayerSite slot) => Options.SavedModulePathMap?.Invoke(slot.Path) ?? record.SourcePaths[slot];
}
