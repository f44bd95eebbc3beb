using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// What the runtime does with a PEFT adapter folder when it loads it (<c>LoraFileSource</c> +
/// <c>LoraComponent.SelectPeftTargets</c> in runtime/LoraSdk), decided at build time from the config, the weights' header
/// and the base model's layouts: fields the SDK does not implement are refused (<see cref="PeftConfigPolicy"/>); per
/// component, only the modules the config's <c>target_modules</c> selects are loaded (<see cref="PeftTargetModules"/>;
/// PEFT ignores the keys of the others); a selected module must have the config's rank (<c>r</c> /
/// <c>rank_pattern</c>) and agree with <c>use_dora</c>; a layer the config targets that the weights do not cover gets a
/// zero delta, or is refused when <c>init_lora_weights</c> is false (PEFT would leave it random); a config that selects
/// nothing is refused. Refusals are what the runtime throws; warnings what it reports and loads anyway.
/// </summary>
internal sealed class PeftLoadPlan
{
    private PeftLoadPlan(IReadOnlyDictionary<string, IReadOnlyList<LoraModuleSpec>> components, IReadOnlyList<string> refusals, IReadOnlyList<string> warnings)
    {
        Components = components;
        Refusals = refusals;
        Warnings = warnings;
    }

    /// <summary>Per component (canonical order), the modules that load, ordinal by path.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<LoraModuleSpec>> Components { get; }

    /// <summary>Why the runtime refuses the folder (empty: it loads).</summary>
    public IReadOnlyList<string> Refusals { get; }

    /// <summary>What the runtime warns about while loading it.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Shown modules in lists.</summary>
    private const int Shown = 10;

    /// <param name="model">The weights read with <paramref name="config"/> (<see cref="LoraFileModel.Read(string, LoraFileModelOptions)"/> of the folder).</param>
    /// <param name="config">The folder's <c>adapter_config.json</c>.</param>
    /// <param name="configWarnings">What reading the config noticed (malformed values replaced by PEFT's defaults).</param>
    /// <param name="layouts">The manifest's base model.</param>
    public static PeftLoadPlan For(LoraFileModel model, LoraAdapterConfig config, IReadOnlyList<string> configWarnings, BaseModelLayouts layouts)
    {
        const string configFile = AdapterSourceResolver.PeftConfigName;
        var refusals = new List<string>();
        var warnings = configWarnings.ToList(); // already labelled with the config file name
        var findings = PeftConfigPolicy.Check(config);
        foreach (var f in findings) (f.IsRefusal ? refusals : warnings).Add(f.Message);
        var components = new Dictionary<string, IReadOnlyList<LoraModuleSpec>>(StringComparer.Ordinal);
        // The runtime refuses such a config before it reads the weights.
        if (refusals.Count > 0) return new PeftLoadPlan(components, refusals, warnings);

        foreach (var component in Ordered(model.Components.Keys))
        {
            var modules = model.Components[component].Values.ToList();
            if (modules.Count == 0) continue;
            try
            {
                components[component] = Select(component, modules, config, LayoutOf(component, layouts), refusals, warnings);
            }
            catch (LoraSdkFormatException e)
            {
                // A pattern that is not a regular expression, a field of the wrong type: the runtime fails the load.
                refusals.Add($"{configFile}: {e.Message}");
            }
        }
        return new PeftLoadPlan(components, refusals, warnings);
    }

    private static IReadOnlyList<LoraModuleSpec> Select(string component, List<LoraModuleSpec> modules, LoraAdapterConfig config, ILayout? layout,
        List<string> refusals, List<string> warnings)
    {
        const string configFile = AdapterSourceResolver.PeftConfigName;
        var kept = new List<LoraModuleSpec>(modules.Count);
        var ignored = new List<string>();
        bool? anyTargets = null;
        foreach (var m in modules)
        {
            var names = Names(component, m.ModulePath);
            bool isLinear = layout != null && layout.TryGetKind(m.ModulePath, out var kind) ? kind != LoraLayerKind.Conv2d : m.Kind != LoraLayerKind.Conv2d;
            bool? selected = PeftTargetModules.Selects(config, names, isLinear);
            anyTargets ??= selected.HasValue;
            if (selected == false)
            {
                ignored.Add(m.ModulePath);
                continue;
            }
            int expected = config.RankFor(names);
            if (m.AKey != null && expected != m.Rank)
            {
                refusals.Add($"{component}: the weights of '{m.ModulePath}' have rank {Int(m.Rank)}, but {configFile} gives it rank {Int(expected)} " +
                             $"(PEFT fails with a size mismatch for {PeftKeyPrefix}.{m.ModulePath}.lora_A.weight)");
            }
            if (m.UsesDora != config.UseDora)
            {
                refusals.Add($"{component}: {configFile} has use_dora = {(config.UseDora ? "true" : "false")}, but the weights of '{m.ModulePath}' " +
                             $"{(config.UseDora ? "have no lora_magnitude_vector" : "have a lora_magnitude_vector")}; the config and the weights disagree on DoRA");
            }
            kept.Add(m);
        }
        if (anyTargets == false)
        {
            warnings.Add($"{component}: {configFile} has no target_modules; every module in the weights is loaded");
            return modules;
        }
        string targets = PeftConfigPolicy.Describe(config.GetField("target_modules") ?? config.TargetModules.Cast<object?>().ToList());
        if (ignored.Count > 0)
        {
            warnings.Add($"{component}: {ignored.Count} module(s) in the weights are not selected by {configFile} (target_modules {targets}); " +
                         $"PEFT ignores their keys, so they are not loaded: {List(ignored)}");
        }
        var covered = new HashSet<string>(kept.Select(m => m.ModulePath), StringComparer.Ordinal);
        var missing = layout == null
            ? new List<string>()
            : layout.Modules.Where(b => !covered.Contains(b.Path) && PeftTargetModules.Selects(config, Names(component, b.Path), b.Kind != LoraLayerKind.Conv2d) == true)
                .Select(b => b.Path).ToList();
        if (kept.Count == 0 && missing.Count == 0)
        {
            refusals.Add($"{component}: target modules {targets} not found in the base model (PEFT: \"Please check the target modules and try again.\")");
            return kept;
        }
        if (missing.Count > 0)
        {
            if (!PeftConfigPolicy.MissingLayersAreNoOps(config))
            {
                refusals.Add($"{component}: {configFile} targets {missing.Count} layer(s) that the weights do not cover ({List(missing)}); PEFT would give them " +
                             $"randomly initialised LoRA weights (init_lora_weights = {PeftConfigPolicy.Describe(config.GetField("init_lora_weights"))})");
            }
            else if (kept.Count == 0)
            {
                refusals.Add($"{component}: the weights cover none of the {missing.Count} layer(s) {configFile} targets; there is nothing to load");
            }
            else
            {
                warnings.Add($"{component}: {configFile} targets {missing.Count} layer(s) that the weights do not cover ({List(missing)}); PEFT warns " +
                             "\"Found missing adapter keys\" and gives them a zero delta, so they are left without the adapter");
            }
        }
        return kept;
    }

    /// <summary>The key prefix PEFT's <c>save_pretrained</c> writes before every module path.</summary>
    private const string PeftKeyPrefix = "base_model.model";

    /// <summary>The names PEFT may know a module by (the runtime's rule): its path, and the <c>text_model.</c> form for text encoders.</summary>
    private static IReadOnlyList<string> Names(string component, string path) =>
        LoraComponents.IsTextEncoder(component) ? new[] { path, "text_model." + path } : new[] { path };

    private static IEnumerable<string> Ordered(IEnumerable<string> components)
    {
        var all = components.ToList();
        return LoraComponents.All.Where(all.Contains).Concat(all.Where(c => !LoraComponents.All.Contains(c)).OrderBy(c => c, StringComparer.Ordinal));
    }

    private static string List(List<string> items) =>
        string.Join(", ", items.Take(Shown)) + (items.Count > Shown ? $", ... ({items.Count} in all)" : "");

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The layers of one base-model component, as the layouts enumerate them.</summary>
    private interface ILayout
    {
        IReadOnlyList<BaseModuleInfo> Modules { get; }

        bool TryGetKind(string path, out LoraLayerKind kind);
    }

    private sealed class Layout : ILayout
    {
        private readonly Func<string, BaseModuleInfo?> _find;

        public Layout(IReadOnlyList<BaseModuleInfo> modules, Func<string, BaseModuleInfo?> find)
        {
            Modules = modules;
            _find = find;
        }

        public IReadOnlyList<BaseModuleInfo> Modules { get; }

        public bool TryGetKind(string path, out LoraLayerKind kind)
        {
            var info = _find(path);
            kind = info?.Kind ?? LoraLayerKind.Linear;
            return info != null;
        }
    }

    private static ILayout? LayoutOf(string component, BaseModelLayouts layouts)
    {
        switch (component)
        {
            case LoraComponents.Unet when layouts.Unet is { } unet:
                return new Layout(unet.Modules, p => unet.TryGetModule(p, out var m) ? m : null);
            case LoraComponents.Transformer when layouts.Transformer is { } transformer:
                return new Layout(transformer.Modules, p => transformer.TryGetModule(p, out var m) ? m : null);
            case LoraComponents.TextEncoder when layouts.TextEncoder is { } te:
                return new Layout(te.Modules, p => te.TryGetModule(p, out var m) ? m : null);
            case LoraComponents.TextEncoder2 when layouts.TextEncoder2 is { } te2:
                return new Layout(te2.Modules, p => te2.TryGetModule(p, out var m) ? m : null);
            default:
                return null;
        }
    }
}
