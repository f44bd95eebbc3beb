using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LoraSdk.Core;

/// <summary>
/// What PEFT does with a PEFT adapter folder's weights on one model, decided once for the engine (which loads the
/// folder) and the build task (which predicts the load): only the modules the config selects
/// (<see cref="PeftTargetModules"/>) get the adapter — PEFT ignores the keys of the others (a warning); a selected
/// module must have the config's rank (<c>r</c> / <c>rank_pattern</c>; PEFT's size mismatch otherwise) and agree
/// with <c>use_dora</c>; a layer the config targets that the weights do not cover keeps PEFT's initial weights, a zero
/// delta (a warning) unless <c>init_lora_weights</c> is false, where PEFT leaves random weights (refused); a config
/// that selects nothing, or weights that cover none of its targets, leave nothing to load (refused). Fields of the
/// config the SDK does not implement are <see cref="PeftConfigPolicy"/>'s concern, checked before this.
/// </summary>
internal sealed class PeftTargetSelection
{
    /// <summary>The key prefix PEFT's <c>save_pretrained</c> writes before every module path of a <c>PeftModel</c>.</summary>
    public const string KeyPrefix = "base_model.model";

    /// <summary>Modules or layers named in one message.</summary>
    private const int Shown = 10;

    private PeftTargetSelection(IReadOnlyList<PeftWeightModule> kept, IReadOnlyList<PeftWeightModule> ignored, IReadOnlyList<string> uncovered,
        IReadOnlyList<PeftTargetFinding> findings)
    {
        Kept = kept;
        Ignored = ignored;
        Uncovered = uncovered;
        Findings = findings;
    }

    /// <summary>The modules PEFT loads, in the order given (every module when the config has no <c>target_modules</c>).</summary>
    public IReadOnlyList<PeftWeightModule> Kept { get; }

    /// <summary>The modules the config does not select (PEFT ignores their keys), in the order given.</summary>
    public IReadOnlyList<PeftWeightModule> Ignored { get; }

    /// <summary>The paths of the model layers the config targets that the weights do not cover, in the model's order.</summary>
    public IReadOnlyList<string> Uncovered { get; }

    /// <summary>Refusals and warnings, in the order PEFT would meet them (the first refusal is what loading fails with).</summary>
    public IReadOnlyList<PeftTargetFinding> Findings { get; }

    /// <summary>The first refusal, or null when the folder loads.</summary>
    public PeftTargetFinding? FirstRefusal => Findings.FirstOrDefault(f => f.IsRefusal);

    /// <summary>
    /// Applies <paramref name="config"/> to the modules of one model's weights.
    /// </summary>
    /// <param name="config">The folder's <c>adapter_config.json</c>.</param>
    /// <param name="configFile">The config's file name, for messages.</param>
    /// <param name="component">The model's name (<see cref="LoraComponents"/>), for messages.</param>
    /// <param name="modules">The weights' modules for this model.</param>
    /// <param name="layers">Every LoRA-capable layer of the model, in its order; null when the model's layers are unknown (then no uncovered layers are reported).</param>
    /// <exception cref="LoraSdkFormatException">A pattern of the config is not a regular expression, or a field has the wrong type.</exception>
    public static PeftTargetSelection Select(LoraAdapterConfig config, string configFile, string component, IReadOnlyList<PeftWeightModule> modules,
        IReadOnlyList<PeftModelLayer>? layers)
    {
        if (config is null) throw new ArgumentNullException(nameof(config));
        if (modules is null) throw new ArgumentNullException(nameof(modules));
        var findings = new List<PeftTargetFinding>();
        var kept = new List<PeftWeightModule>(modules.Count);
        var ignored = new List<PeftWeightModule>();
        bool? anyTargets = null;
        foreach (var module in modules)
        {
            bool? selected = PeftTargetModules.Selects(config, module.Names, module.IsLinear);
            anyTargets ??= selected.HasValue;
            if (selected == false)
            {
                ignored.Add(module);
                continue;
            }
            int expected = config.RankFor(module.Names);
            if (module.AShape is { } aShape && expected != module.Rank)
            {
                var inModel = aShape.ToArray();
                inModel[0] = expected;
                findings.Add(new PeftTargetFinding(PeftTargetFindingKind.RankMismatch,
                    $"size mismatch for {KeyPrefix}.{module.Path}.lora_A.weight: copying a param with shape {Shape(aShape)} " +
                    $"from checkpoint, the shape in current model is {Shape(inModel)} ({configFile} gives '{module.Path}' rank {Int(expected)}).",
                    $"the weights of '{module.Path}' have rank {Int(module.Rank)}, but {configFile} gives it rank {Int(expected)} " +
                    $"(PEFT fails with a size mismatch for {KeyPrefix}.{module.Path}.lora_A.weight)",
                    module.Path));
            }
            if (module.UsesDora != config.UseDora)
            {
                // PEFT would give a use_dora layer without a saved magnitude its initial one (a different output), and
                // would drop a magnitude that a plain-LoRA config does not expect; neither is what the file means.
                string dora = $"{configFile} has use_dora = {(config.UseDora ? "true" : "false")}, but the weights of '{module.Path}' " +
                              $"{(config.UseDora ? "have no lora_magnitude_vector" : "have a lora_magnitude_vector")}; the config and the weights disagree on DoRA";
                findings.Add(new PeftTargetFinding(PeftTargetFindingKind.DoraMismatch, dora + ".", dora, module.Path));
            }
            kept.Add(module);
        }
        if (anyTargets == false)
        {
            findings.Add(new PeftTargetFinding(PeftTargetFindingKind.NoTargetModules,
                $"{configFile} has no target_modules; every module in the weights was loaded.",
                $"{configFile} has no target_modules; every module in the weights is loaded"));
            return new PeftTargetSelection(modules.ToList(), ignored, Array.Empty<string>(), findings);
        }
        string targets = PeftConfigPolicy.Describe(config.GetField("target_modules") ?? config.TargetModules.Cast<object?>().ToList());
        if (ignored.Count > 0)
        {
            string notSelected = $"{Int(ignored.Count)} module(s) in the weights are not selected by {configFile} (target_modules {targets}); PEFT ignores their keys, ";
            var ignoredPaths = ignored.Select(m => m.Path).ToList();
            findings.Add(new PeftTargetFinding(PeftTargetFindingKind.ModulesNotSelected,
                notSelected + $"so they were not loaded: {List(ignoredPaths)}",
                notSelected + $"so they are not loaded: {CountedList(ignoredPaths)}"));
        }
        var covered = new HashSet<string>(kept.Where(m => m.LayerPath != null).Select(m => m.LayerPath!), StringComparer.Ordinal);
        var uncovered = layers == null
            ? new List<string>()
            : layers.Where(l => !covered.Contains(l.Path) && PeftTargetModules.Selects(config, l.Names, l.IsLinear) == true).Select(l => l.Path).ToList();
        if (kept.Count == 0 && uncovered.Count == 0)
        {
            // PEFT's inject_adapter when the config selects no module of the model.
            string message = $"Target modules {targets} not found in the base model. Please check the target modules and try again.";
            if (config.GetField("layers_to_transform") is { } indexes) message += $" Note: You specified 'layers_to_transform': {PeftConfigPolicy.Describe(indexes)}.";
            if (config.GetField("layers_pattern") is { } pattern) message += $" You also specified 'layers_pattern': {PeftConfigPolicy.Describe(pattern)}.";
            findings.Add(new PeftTargetFinding(PeftTargetFindingKind.TargetModulesNotFound, message,
                $"target modules {targets} not found in the base model (PEFT: \"Please check the target modules and try again.\")"));
        }
        else if (uncovered.Count > 0)
        {
            string list = List(uncovered);
            if (!PeftConfigPolicy.MissingLayersAreNoOps(config))
            {
                findings.Add(new PeftTargetFinding(PeftTargetFindingKind.UncoveredLayersRandom,
                    $"{configFile} targets {Int(uncovered.Count)} {component} layer(s) that the weights do not cover ({list}); PEFT would give them " +
                    $"randomly initialised LoRA weights (init_lora_weights = {PeftConfigPolicy.Describe(config.GetField("init_lora_weights"))}), so the adapter is refused.",
                    $"{configFile} targets {Int(uncovered.Count)} layer(s) that the weights do not cover ({CountedList(uncovered)}); PEFT would give them " +
                    $"randomly initialised LoRA weights (init_lora_weights = {PeftConfigPolicy.Describe(config.GetField("init_lora_weights"))})",
                    uncovered[0]));
            }
            else if (kept.Count == 0)
            {
                // PEFT would load an adapter that computes nothing; the zero-delta warning would go with the refusal.
                findings.Add(new PeftTargetFinding(PeftTargetFindingKind.NothingCovered,
                    $"the weights cover none of the {Int(uncovered.Count)} {component} layer(s) {configFile} targets; there is nothing to load.",
                    $"the weights cover none of the {Int(uncovered.Count)} layer(s) {configFile} targets; there is nothing to load"));
            }
            else
            {
                findings.Add(new PeftTargetFinding(PeftTargetFindingKind.UncoveredLayersZeroDelta,
                    $"{configFile} targets {Int(uncovered.Count)} {component} layer(s) that the weights do not cover ({list}); PEFT warns " +
                    "\"Found missing adapter keys\" and gives them a zero delta, so they were left without the adapter.",
                    $"{configFile} targets {Int(uncovered.Count)} layer(s) that the weights do not cover ({CountedList(uncovered)}); PEFT warns " +
                    "\"Found missing adapter keys\" and gives them a zero delta, so they are left without the adapter"));
            }
        }
        return new PeftTargetSelection(kept, ignored, uncovered, findings);
    }

    private static string List(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(Shown)) + (items.Count > Shown ? ", ..." : "");

    /// <summary>A list for the build task's messages, which also say how many there are in all.</summary>
    private static string CountedList(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(Shown)) + (items.Count > Shown ? $", ... ({Int(items.Count)} in all)" : "");

    private static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
