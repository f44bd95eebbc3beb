using System;
using System.Collections.Generic;
using System.IO;
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
        if (!_adapterByName.ContainsKey(name))
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
            ["lora_adapter_metadata"] = _adapterByName[name].Config.ToJson(),
        };
        SafetensorsWriter.Save(path, tensors, metadata);
        return path;
    }

    /// <summary>
    /// PEFT's <c>get_peft_model_state_dict</c> of one adapter: <c>[prefix.]&lt;module&gt;.lora_A.weight</c> and
    /// <c>.lora_B.weight</c> in module order. The tensors are the live ones (or float32 copies when upcasting).
    /// </summary>
    internal List<KeyValuePair<string, Tensor>> StateDict(string adapterName, string? prefix, bool upcast)
    {
        var record = _adapterByName[adapterName];
        var result = new List<KeyValuePair<string, Tensor>>();
        foreach (var slot in record.Slots)
        {
            var w = slot.Core!.GetAdapter(adapterName);
            string module = (prefix is null ? "" : prefix + ".") + (Options.SavedModulePathMap?.Invoke(slot.Path) ?? record.SourcePaths[slot]);
            result.Add(new KeyValuePair<string, Tensor>(module + ".lora_A.weight", upcast ? w.Down.to(ScalarType.Float32) : w.Down));
            result.Add(new KeyValuePair<string, Tensor>(module + ".lora_B.weight", upcast ? w.Up.to(ScalarType.Float32) : w.Up));
        }
        return result;
    }
}
