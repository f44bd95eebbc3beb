using System.Collections.Generic;
using System.Linq;
using LoraSdk.Generators.Binding;
using LoraSdk.Generators.Model;
using static LoraSdk.Generators.Emission.CodeWriter;

namespace LoraSdk.Generators.Emission;

/// <summary>
/// Turns emission specs into C# source: deterministic (ordinal orders, invariant culture, '\n'), <c>// &lt;auto-generated/&gt;</c>,
/// nullable enabled, XML docs on every public member stating the facts.
/// </summary>
internal static class Emitter
{
    private const string Typed = "global::LoraSdk.Typed.";
    private const string ReadOnlyList = "global::System.Collections.Generic.IReadOnlyList";

    // ---- hint names ----

    public static string HintName(AdapterEmitSpec s) => $"{s.Context.Namespace}.{s.Context.Catalog}.{s.Name}.g.cs";

    public static string HintName(CatalogEmitSpec s) => $"{s.Context.Namespace}.{s.Context.Catalog}.g.cs";

    public static string HintName(BaseModelEmitSpec s) => $"{s.Namespace}.{s.TypeName}.g.cs";

    public static string HintName(GroupEmitSpec s) => $"{s.Context.Namespace}.{NameRules.GroupsClass}.{s.Name}.g.cs";

    public static string HintName(MergeEmitSpec s) => $"{s.Context.Namespace}.{NameRules.MergesClass}.{s.Name}.g.cs";

    // ---- adapter ----

    public static string Emit(AdapterEmitSpec s)
    {
        var w = Header(s.Context.Namespace);
        var c = s.Context;
        string baseType = s.RankMarker.HasValue
            ? $"{Typed}LoraAdapter<{c.BaseModelType}, {Typed}Ranks.Rank{Int(s.RankMarker.Value)}>"
            : $"{Typed}LoraAdapter<{c.BaseModelType}>";
        var summary = AdapterSummary(s);
        var remarks = AdapterRemarks(s);
        w.Line($"static partial class {c.Catalog}").Line("{");
        w.Indent(() =>
        {
            OpenSingleton(w, s.TypeName, s.Name, baseType, true, summary, remarks);
            Property(w, "string", "Name", Str(s.Name), $"The adapter name (and pipeline adapter name): {C(s.Name)}.");
            if (s.Peft is { } peft)
            {
                Property(w, "string", "FilePath", Str(s.FilePath), $"The PEFT adapter folder as written in {C(c.ManifestFileName)}: {C(s.FilePath)}.");
                Property(w, "string", "FileName", Str(s.FileName), $"The PEFT adapter folder's name: {C(s.FileName)}.");
                Property(w, "string", "RuntimePath", Str(s.RuntimePath),
                    $"Where the build copies the PEFT adapter folder (adapter_config.json and adapter_model.safetensors), relative to the output folder (named by its content hash): {C(s.RuntimePath)}.");
                Property(w, "long", "FileSize", Int(s.FileSize) + "L",
                    $"Size of the PEFT adapter folder: {Int(s.FileSize)} bytes (adapter_config.json {Int(peft.ConfigSize)} + adapter_model.safetensors {Int(peft.WeightsSize)}).");
                Property(w, "string", "Sha256", Str(s.Sha256),
                    $"SHA-256 of the PEFT adapter folder (of the sha256sum listing of its two files): {C(s.Sha256)}.");
            }
            else
            {
                Property(w, "string", "FilePath", Str(s.FilePath), $"The file as written in {C(c.ManifestFileName)}: {C(s.FilePath)}.");
                Property(w, "string", "FileName", Str(s.FileName), $"The file name: {C(s.FileName)}.");
                Property(w, "string", "RuntimePath", Str(s.RuntimePath), $"Where the build copies the file, relative to the output folder (named by its content hash): {C(s.RuntimePath)}.");
                Property(w, "long", "FileSize", Int(s.FileSize) + "L", $"File size: {Int(s.FileSize)} bytes.");
                Property(w, "string", "Sha256", Str(s.Sha256), $"SHA-256 of the file: {C(s.Sha256)}.");
            }
            Property(w, "string", "Format", Str(s.Format), $"Key format: {C(s.Format)}.");
            Property(w, "string", "Variant", Str(s.Variant), VariantDoc(s.Variant));
            Property(w, "string?", "Prefix", StrOrNull(s.Prefix),
                s.Prefix == null ? "Component prefix: none (every component of the file is loaded)." : $"Component prefix: {C(s.Prefix)} (only this component is loaded).");
            Property(w, "int", "Rank", Int(s.Rank), $"Rank: {Int(s.Rank)}{PrimaryNote(s)}.");
            Property(w, "int", "MaxRank", Int(s.MaxRank), $"Largest module rank: {Int(s.MaxRank)}.");
            Property(w, "double", "Alpha", Dbl(s.Alpha), $"Alpha: {Num(s.Alpha)}{PrimaryNote(s)}.");
            Property(w, "double", "Scaling", Dbl(s.Scaling), $"Scaling: {Num(s.Scaling)} ({(s.UsesRsLora ? "alpha / sqrt(rank), rsLoRA" : "alpha / rank")}){PrimaryNote(s)}.");
            Property(w, "bool", "UsesRsLora", Bool(s.UsesRsLora), $"Rank-stabilized scaling (rsLoRA): {(s.UsesRsLora ? "yes" : "no")}.");
            w.Doc("Components and their target modules:\n" + string.Join("\n", s.Components.Select(ComponentDoc).DefaultIfEmpty("none")));
            w.Line($"public override {ReadOnlyList}<{Typed}LoraComponentInfo> Components => s_components;");
            w.Line();
            Property(w, $"{ReadOnlyList}<string>", "TriggerWords", "s_triggerWords", $"Trigger words ({Xml(s.TriggerWordsSource)}): {TriggerDoc(s.TriggerWords)}.");
            Property(w, "string?", "DeclaredArchitecture", StrOrNull(s.DeclaredArchitecture),
                $"Architecture declared by the file's metadata: {(s.DeclaredArchitecture == null ? "none" : C(s.DeclaredArchitecture))}.");
            Property(w, "string?", "ImpliedArchitecture", StrOrNull(s.ImpliedArchitecture),
                $"Architecture implied by the tensor shapes: {(s.ImpliedArchitecture == null ? "unknown" : C(s.ImpliedArchitecture))}.");
            Property(w, "double", "DefaultWeight", Dbl(s.DefaultWeight), $"Default weight: {Num(s.DefaultWeight)}.");
            w.Line($"private static readonly {ReadOnlyList}<string> s_triggerWords = global::System.Array.AsReadOnly({StringArray(s.TriggerWords)});");
            w.Line();
            w.Line($"private static readonly {ReadOnlyList}<{Typed}LoraComponentInfo> s_components = global::System.Array.AsReadOnly(new {Typed}LoraComponentInfo[]");
            w.Line("{");
            w.Indent(() =>
            {
                foreach (var component in s.Components) w.Line(ComponentInit(component) + ",");
            });
            w.Line("});");
            w.Close();
        });
        w.Line("}");
        return Footer(w);
    }

    private static string PrimaryNote(AdapterEmitSpec s) =>
        s.Components.Count > 1 ? $" (of {C(s.Components.FirstOrDefault(x => LoraSdk.Core.LoraComponents.IsDenoiser(x.Name))?.Name ?? s.Components[0].Name)}; see Components for the others)" : "";

    /// <summary>The adapter's kind as the summary names it: "LoRA adapter", "LoHa (LyCORIS) adapter", …</summary>
    private static string VariantNoun(string variant) => variant switch
    {
        LoraSdk.Core.LoraVariants.Lora => "LoRA adapter",
        LoraSdk.Core.LoraVariants.PeftDora => "DoRA adapter",
        LoraSdk.Core.LoraVariants.LoHa => "LoHa (LyCORIS) adapter",
        LoraSdk.Core.LoraVariants.LoKr => "LoKr (LyCORIS) adapter",
        _ => $"Adapter (variants {string.Join(", ", variant.Split('+').Select(C))})",
    };

    private static string VariantDoc(string variant) =>
        $"Variant: {C(variant)}" + (variant == "lora"
            ? " (plain LoRA: can be hotswapped and merged)."
            : " (applied like LoRA; hot swapping and add_weighted_adapter accept plain LoRA adapters only, so the type has no rank marker).");

    private static string AdapterSummary(AdapterEmitSpec s) =>
        $"{VariantNoun(s.Variant)} {C(s.Name)} ({C(s.FileName)}{(s.Peft != null ? ", a PEFT adapter folder" : "")}) for {C(s.Context.BaseModelName)}: rank {Int(s.Rank)}, alpha {Num(s.Alpha)}, " +
        $"scaling {Num(s.Scaling)}, format {C(s.Format)}, components {(s.Components.Count == 0 ? "none" : string.Join(", ", s.Components.Select(x => C(x.Name))))}.";

    private static List<string> AdapterRemarks(AdapterEmitSpec s)
    {
        var remarks = new List<string>
        {
            s.Peft is { } peft
                ? $"PEFT adapter folder: {C(s.FilePath)}: adapter_config.json ({Int(peft.ConfigSize)} bytes, SHA-256 {C(peft.ConfigSha256)}) and " +
                  $"adapter_model.safetensors ({Int(peft.WeightsSize)} bytes, SHA-256 {C(peft.WeightsSha256)}); ranks, alphas, rsLoRA, DoRA and the " +
                  "target modules are the config's, as the runtime loads the folder."
                : $"File: {C(s.FilePath)}, {Int(s.FileSize)} bytes, SHA-256 {C(s.Sha256)}.",
        };
        foreach (var component in s.Components) remarks.Add(ComponentDoc(component));
        if (s.Prefix != null) remarks.Add($"Prefix: {C(s.Prefix)}.");
        remarks.Add($"Trigger words: {TriggerDoc(s.TriggerWords)}.");
        remarks.Add($"Architecture: declared {(s.DeclaredArchitecture == null ? "none" : C(s.DeclaredArchitecture))}, " +
                    $"implied {(s.ImpliedArchitecture == null ? "unknown" : C(s.ImpliedArchitecture))}.");
        remarks.Add($"Default weight: {Num(s.DefaultWeight)}.");
        return remarks;
    }

    private static string ComponentDoc(ComponentEmitSpec c)
    {
        string kinds = c.Conv2dModuleCount == 0 ? "Linear" : c.Conv2dModuleCount == c.ModuleCount ? "Conv2d" : $"{Int(c.Conv2dModuleCount)} Conv2d";
        string doc = $"{C(c.Name)}: {Count(c.ModuleCount, "module")} ({kinds}), rank {Int(c.Rank)}, alpha {Num(c.Alpha)}, scaling {Num(c.Scaling)}; targets " +
                     string.Join(", ", c.Targets.Select(t => $"{C(t.Leaf)} ×{Int(t.Count)}"));
        if (c.RankPattern.Count > 0) doc += $"; {Count(c.RankPattern.Count, "module")} with another rank";
        if (c.AlphaPattern.Count > 0) doc += $"; {Count(c.AlphaPattern.Count, "module")} with another alpha";
        return doc + ".";
    }

    private static string Count(int n, string noun) => Int(n) + " " + noun + (n == 1 ? "" : "s");

    private static string TriggerDoc(EquatableArray<string> words) =>
        words.Count == 0 ? "none" : string.Join(", ", words.Select(C));

    private static string ComponentInit(ComponentEmitSpec c)
    {
        string ranks = c.RankPattern.Count == 0
            ? "null"
            : "new global::System.Collections.Generic.Dictionary<string, int>(global::System.StringComparer.Ordinal) { " +
              string.Join(", ", c.RankPattern.Select(r => $"[{Str(r.Module)}] = {Int(r.Rank)}")) + " }";
        string alphas = c.AlphaPattern.Count == 0
            ? "null"
            : "new global::System.Collections.Generic.Dictionary<string, double>(global::System.StringComparer.Ordinal) { " +
              string.Join(", ", c.AlphaPattern.Select(a => $"[{Str(a.Module)}] = {Dbl(a.Alpha)}")) + " }";
        return $"new {Typed}LoraComponentInfo({Str(c.Name)}, {Int(c.Rank)}, {Dbl(c.Alpha)}, {Dbl(c.Scaling)}, {Int(c.ModuleCount)}, " +
               $"{Int(c.Conv2dModuleCount)}, {(c.UnpackableModules.Count > 0 ? StringArray(c.UnpackableModules) : Str(c.PackedModules))}, {ranks}, {alphas})";
    }

    /// <summary>
    /// Writes the catalog accessor <c>public static T Name => T.Instance;</c> and opens the sealed singleton type with its
    /// private constructor (both documented with the same summary and remarks).
    /// </summary>
    private static void OpenSingleton(CodeWriter w, string typeName, string name, string baseType, bool partial, string summary,
        IReadOnlyList<string>? remarks = null)
    {
        w.Doc(summary, remarks);
        w.Line($"public static {typeName} {name} => {typeName}.Instance;");
        w.Line();
        w.Doc(summary, remarks);
        w.Open($"public sealed {(partial ? "partial " : "")}class {typeName} : {baseType}");
        w.Line($"internal static readonly {typeName} Instance = new {typeName}();");
        w.Line();
        w.Line($"private {typeName}()");
        w.Line("{");
        w.Line("}");
        w.Line();
    }

    private static void Property(CodeWriter w, string type, string name, string value, string doc)
    {
        w.Doc(doc);
        w.Line($"public override {type} {name} => {value};");
        w.Line();
    }

    // ---- catalog ----

    public static string Emit(CatalogEmitSpec s)
    {
        var w = Header(s.Context.Namespace);
        var c = s.Context;
        string adapterType = $"{Typed}LoraAdapter<{c.BaseModelType}>";
        w.Doc($"The LoRA adapters of {C(c.ManifestFileName)} for the base model {C(c.BaseModelName)} ({Int(s.AdapterNames.Count)}): " +
              (s.AdapterNames.Count == 0 ? "none" : string.Join(", ", s.AdapterNames.Select(n => $"<see cref=\"{n}\"/>"))) + ".");
        w.Open($"public static partial class {c.Catalog}");
        w.Doc($"The base-model marker of every adapter: <see cref=\"{c.BaseModelType}\"/>.");
        w.Line($"public static global::System.Type BaseModel => typeof({c.BaseModelType});");
        w.Line();
        w.Doc("The adapter names, in manifest order.");
        w.Line($"public static {ReadOnlyList}<string> Names {{ get; }} = global::System.Array.AsReadOnly({StringArray(s.AdapterNames)});");
        w.Line();
        w.Doc("Every adapter, in manifest order.");
        w.Line($"public static {ReadOnlyList}<{adapterType}> All => s_all ??= global::System.Array.AsReadOnly(new {adapterType}[] {{ {string.Join(", ", s.AdapterNames)} }});");
        w.Line();
        w.Doc("The adapter named <paramref name=\"name\"/> (ordinal), or null (for names known only at run time).");
        w.Line($"/// <param name=\"name\">The manifest name.</param>");
        w.Open($"public static {adapterType}? Find(string name)");
        w.Open("foreach (var adapter in All)");
        w.Line("if (string.Equals(adapter.Name, name, global::System.StringComparison.Ordinal)) return adapter;");
        w.Close();
        w.Line("return null;");
        w.Close();
        w.Line();
        w.Line($"private static {ReadOnlyList}<{adapterType}>? s_all;");
        w.Close();
        if (s.GroupNames.Count > 0)
        {
            string groupType = $"{Typed}HotswapGroup<{c.BaseModelType}>";
            w.Line();
            w.Doc($"The hotswap groups of {C(c.ManifestFileName)}: {string.Join(", ", s.GroupNames.Select(n => $"<see cref=\"{n}\"/>"))}.");
            w.Open($"public static partial class {NameRules.GroupsClass}");
            w.Doc("Every hotswap group, in manifest order.");
            w.Line($"public static {ReadOnlyList}<{groupType}> All => s_all ??= global::System.Array.AsReadOnly(new {groupType}[] {{ {string.Join(", ", s.GroupNames)} }});");
            w.Line();
            w.Line($"private static {ReadOnlyList}<{groupType}>? s_all;");
            w.Close();
        }
        if (s.MergeNames.Count > 0)
        {
            string mergeType = $"{Typed}DeclaredMerge<{c.BaseModelType}>";
            w.Line();
            w.Doc($"The merges declared in {C(c.ManifestFileName)}: {string.Join(", ", s.MergeNames.Select(n => $"<see cref=\"{n}\"/>"))}.");
            w.Open($"public static partial class {NameRules.MergesClass}");
            w.Doc("Every declared merge, in manifest order.");
            w.Line($"public static {ReadOnlyList}<{mergeType}> All => s_all ??= global::System.Array.AsReadOnly(new {mergeType}[] {{ {string.Join(", ", s.MergeNames)} }});");
            w.Line();
            w.Line($"private static {ReadOnlyList}<{mergeType}>? s_all;");
            w.Close();
        }
        return Footer(w);
    }

    // ---- custom base model ----

    public static string Emit(BaseModelEmitSpec s)
    {
        var w = Header(s.Namespace);
        string? config = s.UnetConfig != null ? $"UNet config {C(s.UnetConfig)}" : s.TransformerConfig != null ? $"Flux transformer config {C(s.TransformerConfig)}" : null;
        w.Doc($"Base-model marker {C(s.TypeName)} declared in {C(s.ManifestFileName)}" +
              (config != null ? $" ({config}" : " (") +
              (s.Architecture != null ? $"{(config != null ? ", " : "")}architecture {C(s.Architecture)})" : (config != null ? ")" : "no architecture check)")) +
              ". Adapters generated for it are accepted only by pipelines typed with it.");
        w.Open($"public sealed class {s.TypeName} : {Typed}BaseModel");
        w.Line($"private {s.TypeName}()");
        w.Line("{");
        w.Line("}");
        w.Close();
        return Footer(w);
    }

    // ---- hotswap group ----

    public static string Emit(GroupEmitSpec s)
    {
        var w = Header(s.Context.Namespace);
        var c = s.Context;
        string adapterType = $"{Typed}LoraAdapter<{c.BaseModelType}>";
        string summary = $"Hotswap group {C(s.Name)}: target rank {Int(s.TargetRank)}{(s.TargetRankIsMax ? " (\"max\": the largest member rank)" : "")}; " +
                         $"load order {string.Join(", ", s.LoadOrder.Select(C))} (the widest adapter first).";
        var remarks = s.Members.Select(m => $"{C(m.Name)}: max rank {Int(m.MaxRank)}, {Count(m.DenoiserModuleCount, m.DenoiserLabel + " module")}.").ToList();
        w.Line($"static partial class {NameRules.GroupsClass}").Line("{");
        w.Indent(() =>
        {
            OpenSingleton(w, s.TypeName, s.Name, $"{Typed}HotswapGroup<{c.BaseModelType}>", false, summary, remarks);
            Property(w, "string", "Name", Str(s.Name), $"The group (and slot adapter) name: {C(s.Name)}.");
            Property(w, "int", "TargetRank", Int(s.TargetRank), $"Target rank: {Int(s.TargetRank)}.");
            Property(w, $"{ReadOnlyList}<{adapterType}>", "Members", "s_members", $"Members in manifest order: {string.Join(", ", s.Members.Select(m => C(m.Name)))}.");
            Property(w, $"{ReadOnlyList}<{adapterType}>", "LoadOrder", "s_loadOrder", $"Load order (widest first): {string.Join(", ", s.LoadOrder.Select(C))}.");
            w.Line($"private static readonly {ReadOnlyList}<{adapterType}> s_members = global::System.Array.AsReadOnly(new {adapterType}[] {{ {string.Join(", ", s.Members.Select(m => CatalogRef(c) + "." + m.Name))} }});");
            w.Line();
            w.Line($"private static readonly {ReadOnlyList}<{adapterType}> s_loadOrder = global::System.Array.AsReadOnly(new {adapterType}[] {{ {string.Join(", ", s.LoadOrder.Select(n => CatalogRef(c) + "." + n))} }});");
            w.Close();
        });
        w.Line("}");
        w.Line();
        w.Line($"static partial class {c.Catalog}").Line("{");
        w.Indent(() =>
        {
            foreach (var m in s.Members)
            {
                w.Line($"partial class {m.TypeName} : {Typed}IHotswapMember<global::{c.Namespace}.{NameRules.GroupsClass}.{s.TypeName}>");
                w.Line("{");
                w.Line("}");
            }
        });
        w.Line("}");
        return Footer(w);
    }

    // ---- declared merge ----

    /// <summary>The C# member name of a PEFT name of <c>CombinationType</c> or <c>MajoritySignMethod</c> (validated by the parser).</summary>
    private static string EnumMember(string peftName)
    {
        if (LoraSdk.Core.CombinationTypes.TryParse(peftName, out var type)) return type.ToString();
        if (LoraSdk.Core.MajoritySignMethods.TryParse(peftName, out var method)) return method.ToString();
        throw new System.ArgumentException($"not a PEFT name: {peftName}", nameof(peftName));
    }

    public static string Emit(MergeEmitSpec s)
    {
        var w = Header(s.Context.Namespace);
        var c = s.Context;
        string adapterType = $"{Typed}LoraAdapter<{c.BaseModelType}>";
        string pairs = string.Join(", ", s.Adapters.Select((a, i) => $"{C(a)} × {Num(s.Weights[i])}"));
        string summary = $"Declared merge {C(s.Name)}: {C(s.CombinationType)} of {pairs}" +
                         (s.Density.HasValue ? $", density {Num(s.Density.Value)}" : "") +
                         (s.SvdRank.HasValue ? $", SVD rank {Int(s.SvdRank.Value)}" : "") +
                         $"; result rank {Int(s.ResultRank)}.";
        w.Line($"static partial class {NameRules.MergesClass}").Line("{");
        w.Indent(() =>
        {
            OpenSingleton(w, s.TypeName, s.Name, $"{Typed}DeclaredMerge<{c.BaseModelType}>", false, summary);
            Property(w, "string", "Name", Str(s.Name), $"The merged adapter's name: {C(s.Name)}.");
            Property(w, $"{ReadOnlyList}<{adapterType}>", "Adapters", "s_adapters", $"Merged adapters: {string.Join(", ", s.Adapters.Select(C))}.");
            Property(w, $"{ReadOnlyList}<double>", "Weights", "s_weights", $"Weights: {string.Join(", ", s.Weights.Select(Num))}.");
            Property(w, "global::LoraSdk.Core.CombinationType", "CombinationType", "global::LoraSdk.Core.CombinationType." + EnumMember(s.CombinationType), $"Combination type: {C(s.CombinationType)}.");
            Property(w, "double?", "Density", DblOrNull(s.Density), $"Density: {(s.Density.HasValue ? Num(s.Density.Value) : "none")}.");
            Property(w, "int?", "SvdRank", IntOrNull(s.SvdRank), $"SVD rank: {(s.SvdRank.HasValue ? Int(s.SvdRank.Value) : "none (the largest rank)")}.");
            Property(w, "double?", "SvdClamp", DblOrNull(s.SvdClamp), $"SVD clamp: {(s.SvdClamp.HasValue ? Num(s.SvdClamp.Value) : "none")}.");
            Property(w, "bool", "SvdFullMatrices", Bool(s.SvdFullMatrices), $"SVD full matrices: {(s.SvdFullMatrices ? "true" : "false")}.");
            Property(w, "global::LoraSdk.Core.MajoritySignMethod", "MajoritySignMethod", "global::LoraSdk.Core.MajoritySignMethod." + EnumMember(s.MajoritySignMethod), $"Majority sign method: {C(s.MajoritySignMethod)}.");
            Property(w, "long?", "Seed", LongOrNull(s.Seed), $"Seed: {(s.Seed.HasValue ? Int(s.Seed.Value) : "none")}.");
            Property(w, "int", "ResultRank", Int(s.ResultRank), $"Rank of the merged adapter: {Int(s.ResultRank)}.");
            w.Line($"private static readonly {ReadOnlyList}<{adapterType}> s_adapters = global::System.Array.AsReadOnly(new {adapterType}[] {{ {string.Join(", ", s.Adapters.Select(a => CatalogRef(c) + "." + a))} }});");
            w.Line();
            w.Line($"private static readonly {ReadOnlyList}<double> s_weights = global::System.Array.AsReadOnly(new double[] {{ {string.Join(", ", s.Weights.Select(Dbl))} }});");
            w.Close();
        });
        w.Line("}");
        return Footer(w);
    }

    private static string CatalogRef(TypeContext c) => "global::" + c.Namespace + "." + c.Catalog;

    // ---- frame ----

    private static CodeWriter Header(string ns)
    {
        var w = new CodeWriter();
        w.Line("// <auto-generated/>");
        w.Line("// Generated by LoraSdk.Generators from adapters.manifest and the adapter files' safetensors headers. Do not edit.");
        w.Line("#nullable enable");
        w.Line();
        w.Line($"namespace {ns}");
        w.Line("{");
        w.IndentBegin();
        return w;
    }

    private static string Footer(CodeWriter w)
    {
        w.IndentEnd();
        w.Line("}");
        return w.ToString();
    }
}
