using System.Collections.Generic;
using System.IO;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Configuration;

/// <summary>A pipeline folder's <c>model_index.json</c>: the pipeline class and its components.</summary>
public sealed class ModelIndex
{
    /// <summary>The file name diffusers uses.</summary>
    public const string FileName = "model_index.json";

    private ModelIndex(ConfigFile file, string className, IReadOnlyDictionary<string, (string? Library, string? ClassName)> components)
    {
        File = file;
        ClassName = className;
        Components = components;
    }

    /// <summary>The parsed file.</summary>
    public ConfigFile File { get; }

    /// <summary><c>_class_name</c>, e.g. <c>StableDiffusionXLPipeline</c>.</summary>
    public string ClassName { get; }

    /// <summary>Component name → (library, class); both null for an absent component (<c>[null, null]</c>).</summary>
    public IReadOnlyDictionary<string, (string? Library, string? ClassName)> Components { get; }

    /// <summary><c>force_zeros_for_empty_prompt</c> (SDXL default true).</summary>
    public bool ForceZerosForEmptyPrompt => File.GetBool("force_zeros_for_empty_prompt", true);

    /// <summary>True when the component is listed with a class (not <c>[null, null]</c>).</summary>
    public bool HasComponent(string name) => Components.TryGetValue(name, out var c) && c.ClassName != null;

    /// <summary>Reads <c>model_index.json</c> from a pipeline folder.</summary>
    /// <exception cref="Loading.ModelLoadException">Missing or malformed file.</exception>
    public static ModelIndex Load(string folder)
    {
        var file = ConfigFile.Load(Path.Combine(folder, FileName));
        string className = file.GetString("_class_name", null) ?? throw file.InvalidValue("_class_name", "missing");
        var components = new Dictionary<string, (string?, string?)>(System.StringComparer.Ordinal);
        foreach (var p in file.Root.Properties)
        {
            if (p.Key.StartsWith("_", System.StringComparison.Ordinal)) continue;
            if (p.Value.Kind != JsonValueKind.Array) continue;
            if (p.Value.Items.Count != 2) throw file.InvalidValue(p.Key, "a component entry must be [library, class]");
            string? lib = p.Value.Items[0].IsNull ? null : p.Value.Items[0].Kind == JsonValueKind.String ? p.Value.Items[0].AsString() : throw file.InvalidValue(p.Key, "library must be a string or null");
            string? cls = p.Value.Items[1].IsNull ? null : p.Value.Items[1].Kind == JsonValueKind.String ? p.Value.Items[1].AsString() : throw file.InvalidValue(p.Key, "class must be a string or null");
            components[p.Key] = (lib, cls);
        }
        return new ModelIndex(file, className, components);
    }
}
