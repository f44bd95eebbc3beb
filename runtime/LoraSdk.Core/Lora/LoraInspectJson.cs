using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// Writes the stable JSON document of <c>lorasdk inspect --json</c> (documented in <c>docs/cli-inspect.md</c>);
/// the build task writes its own slimmer sidecar format (docs/generator.md).
/// Output is deterministic: members in a fixed order, modules and keys ordinal-sorted, invariant culture.
/// </summary>
public static class LoraInspectJson
{
    /// <summary>The contract version written as <c>"version"</c>; bumped only for incompatible changes.</summary>
    public const int Version = 1;

    /// <summary>Serializes <paramref name="model"/>.</summary>
    public static string Write(LoraFileModel model, bool indented = true)
    {
        var w = new JsonWriter(indented);
        WriteTo(w, model, null);
        return w.ToString();
    }

    /// <summary>
    /// Writes the document as one object; <paramref name="extraMembers"/> (may be null) is called after the
    /// <c>"version"</c> member to add members such as <c>fileName</c> / <c>fileSize</c> / <c>sha256</c>.
    /// </summary>
    internal static void WriteTo(JsonWriter w, LoraFileModel model, Action<JsonWriter>? extraMembers)
    {
        if (w == null) throw new ArgumentNullException(nameof(w));
        if (model == null) throw new ArgumentNullException(nameof(model));
        w.StartObject();
        w.Name("version").Value(Version);
        extraMembers?.Invoke(w);
        w.Name("format").Value(model.Format);
        w.Name("formats");
        Strings(w, model.Formats);
        w.Name("tensorCount").Value(model.Header.Tensors.Count);
        w.Name("moduleCount").Value(model.ModuleCount);
        w.Name("components").StartObject();
        foreach (var component in model.Components)
        {
            w.Name(component.Key).StartObject();
            w.Name("moduleCount").Value(component.Value.Count);
            w.Name("modules").StartObject();
            foreach (var m in component.Value.Values) WriteModule(w, m);
            w.EndObject();
            w.EndObject();
        }
        w.EndObject();
        w.Name("unmapped");
        Strings(w, model.Unmapped);
        w.Name("unsupported").StartArray();
        foreach (var u in model.Unsupported)
        {
            w.StartObject();
            w.Name("variant").Value(u.Variant);
            w.Name("keys");
            Strings(w, u.Keys);
            w.EndObject();
        }
        w.EndArray();
        w.Name("invalid").StartArray();
        foreach (var i in model.InvalidModules)
        {
            w.StartObject();
            w.Name("component").Value(i.Component);
            w.Name("module").Value(i.ModulePath);
            w.Name("reason").Value(i.Reason);
            w.Name("keys");
            Strings(w, i.Keys);
            w.EndObject();
        }
        w.EndArray();
        w.Name("warnings");
        Strings(w, model.Warnings);
        w.Name("triggerWords");
        Strings(w, model.TriggerWords);
        w.Name("architecture").StartObject();
        w.Name("declared").Value(model.DeclaredArchitecture);
        w.Name("declaredRaw").Value(model.DeclaredArchitectureRaw);
        w.Name("implied").Value(model.ImpliedArchitecture);
        w.EndObject();
        w.Name("usesRsLora").Value(model.UsesRsLora);
        w.Name("usesDora").Value(model.UsesDora);
        w.Name("ignored").StartArray();
        foreach (var i in model.Ignored)
        {
            w.StartObject();
            w.Name("key").Value(i.Key);
            w.Name("reason").Value(i.Reason);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }

    private static void WriteModule(JsonWriter w, LoraModuleSpec m)
    {
        w.Name(m.ModulePath).StartObject();
        w.Name("rank").Value(m.Rank);
        w.Name("alpha").Value(m.Alpha);
        w.Name("alphaSource").Value(AlphaSourceName(m.AlphaSource));
        w.Name("scaling").Value(m.Scaling);
        w.Name("useRsLora").Value(m.UseRsLora);
        w.Name("dora").Value(m.UsesDora);
        w.Name("variant").Value(m.Variant);
        w.Name("kind").Value(m.Kind == LoraLayerKind.Linear ? "linear" : "conv2d");
        w.Name("kernelSize");
        Ints(w, m.KernelSize);
        w.Name("stride");
        Ints(w, m.Stride);
        w.Name("padding");
        Ints(w, m.Padding);
        w.Name("inFeatures").Value(m.InFeatures);
        w.Name("outFeatures").Value(m.OutFeatures);
        w.Name("dtype").Value(SafetensorsDTypes.Name(m.DType));
        w.Name("format").Value(m.Format);
        w.Name("keys").StartObject();
        w.Name("down").Value(m.AKey);
        w.Name("up").Value(m.BKey);
        w.Name("alpha").Value(m.AlphaKey);
        w.Name("mid").Value(m.MidKey);
        w.Name("magnitude").Value(m.MagnitudeKey);
        foreach (var t in m.Tensors)
        {
            string? suffix = LycorisTensorNames.SuffixOf(t.Key);
            if (suffix != null) w.Name(suffix).Value(t.Value.Name);
        }
        w.EndObject();
        w.Name("conversion");
        if (m.Conversion is { } c)
        {
            w.StartObject();
            w.Name("source").Value(c.SourceModule);
            w.Name("split").Value(c.SplitCount);
            w.Name("index").Value(c.SplitIndex);
            w.Name("bRows").StartArray().Value(c.BRowStart).Value(c.BRowCount).EndArray();
            w.Name("aScale").Value(c.AScale);
            w.Name("bScale").Value(c.BScale);
            w.Name("swapBHalves").Value(c.SwapBHalves);
            w.Name("blockDiagonalCandidate").Value(c.BlockDiagonalCandidate);
            w.EndObject();
        }
        else
        {
            w.Null();
        }
        w.EndObject();
    }

    /// <summary>The JSON spelling of an alpha source: metadata, metadata_pattern, tensor, tensor_default, rank_default, folded, ignored, unresolved.</summary>
    public static string AlphaSourceName(LoraAlphaSource source) => source switch
    {
        LoraAlphaSource.Metadata => "metadata",
        LoraAlphaSource.MetadataPattern => "metadata_pattern",
        LoraAlphaSource.Tensor => "tensor",
        LoraAlphaSource.TensorDefault => "tensor_default",
        LoraAlphaSource.RankDefault => "rank_default",
        LoraAlphaSource.FoldedIntoWeights => "folded",
        LoraAlphaSource.Ignored => "ignored",
        _ => "unresolved",
    };

    private static void Strings(JsonWriter w, IReadOnlyList<string> items)
    {
        w.StartArray();
        foreach (var s in items) w.Value(s);
        w.EndArray();
    }

    private static void Ints(JsonWriter w, IReadOnlyList<int>? items)
    {
        if (items == null)
        {
            w.Null();
            return;
        }
        w.StartArray();
        foreach (var i in items) w.Value(i);
        w.EndArray();
    }
}
