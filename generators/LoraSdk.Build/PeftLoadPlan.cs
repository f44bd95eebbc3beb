using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// What the runtime does with a PEFT adapter folder when it loads it (<c>LoraFileSource</c> +
/// <c>LoraComponent.SelectPeftTargets</c> in runtime/LoraSdk), decided at build time from the config, the weights' header
/// and the base model's layouts by the same rules: fields the SDK does not implement are refused
/// (<see cref="PeftConfigPolicy"/>); per component, <see cref="PeftTargetSelection"/> decides which modules load (only
/// those the config's <c>target_modules</c> selects; a selected module must have the config's rank and agree with
/// <c>use_dora</c>; targeted layers the weights do not cover get a zero delta, or are refused when
/// <c>init_lora_weights</c> is false; a config that selects nothing is refused). Refusals are what the runtime throws
/// (the runtime stops at the first), warnings what it reports and loads anyway, worded as a prediction
/// (<see cref="PeftTargetFinding.Prediction"/>) and labelled with the component.
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

    /// <summary>
    /// The modules of one component that load (<see cref="PeftTargetSelection"/>, the rule the runtime loads with); its
    /// refusals and warnings, labelled with the component, join <paramref name="refusals"/> / <paramref name="warnings"/>.
    /// </summary>
    private static IReadOnlyList<LoraModuleSpec> Select(string component, List<LoraModuleSpec> modules, LoraAdapterConfig config, ILayout? layout,
        List<string> refusals, List<string> warnings)
    {
        var described = modules.Select(m => new PeftWeightModule(m.ModulePath, Names(component, m.ModulePath),
            layout != null && layout.TryGetKind(m.ModulePath, out var kind) ? kind != LoraLayerKind.Conv2d : m.Kind != LoraLayerKind.Conv2d,
            m.Rank, m.AShape, m.UsesDora, m.ModulePath)).ToList();
        var layers = layout?.Modules.Select(b => new PeftModelLayer(b.Path, Names(component, b.Path), b.Kind != LoraLayerKind.Conv2d)).ToList();
        var selection = PeftTargetSelection.Select(config, AdapterSourceResolver.PeftConfigName, component, described, layers);
        foreach (var f in selection.Findings) (f.IsRefusal ? refusals : warnings).Add($"{component}: {f.Prediction}");
        var kept = new HashSet<PeftWeightModule>(selection.Kept);
        return modules.Where((_, i) => kept.Contains(described[i])).ToList();
    }

    /// <summary>The names PEFT may know a module by (the runtime's rule): its path, and the <c>text_model.</c> form for text encoders.</summary>
    private static IReadOnlyList<string> Names(string component, string path) =>
        LoraComponents.IsTextEncoder(component) ? new[] { path, "text_model." + path } : new[] { path };

    private static IEnumerable<string> Ordered(IEnumerable<string> components)
    {
        var all = components.ToList();
        return LoraComponents.All.Where(all.Contains).Concat(all.Where(c => !LoraComponents.All.Contains(c)).OrderBy(c => c, StringComparer.Ordinal));
    }

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
