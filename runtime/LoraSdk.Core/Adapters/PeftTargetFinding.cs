namespace LoraSdk.Core;

/// <summary>What <see cref="PeftTargetSelection"/> found when it applied a PEFT config to the weights and the model.</summary>
internal enum PeftTargetFindingKind
{
    /// <summary>A selected module's lora_A has another rank than <c>r</c> / <c>rank_pattern</c> give it: PEFT's size mismatch (refused).</summary>
    RankMismatch,

    /// <summary><c>use_dora</c> and a selected module's weights disagree on the DoRA magnitude vector (refused).</summary>
    DoraMismatch,

    /// <summary>The config has no <c>target_modules</c>: every module in the weights is loaded (warning).</summary>
    NoTargetModules,

    /// <summary>Modules in the weights the config does not select: PEFT ignores their keys (warning).</summary>
    ModulesNotSelected,

    /// <summary>The config selects no module of the model: PEFT's "Target modules … not found in the base model" (refused).</summary>
    TargetModulesNotFound,

    /// <summary>Targeted layers the weights do not cover, which PEFT would leave with random weights (refused).</summary>
    UncoveredLayersRandom,

    /// <summary>Targeted layers the weights do not cover, which PEFT gives a zero delta ("Found missing adapter keys"; warning).</summary>
    UncoveredLayersZeroDelta,

    /// <summary>The weights cover none of the layers the config targets: nothing to load (refused).</summary>
    NothingCovered,
}

/// <summary>
/// One finding of <see cref="PeftTargetSelection"/>: its kind, whether the load is refused for it, and its two
/// renderings, made in one place: <see cref="Message"/>, what the engine throws or reports when it loads the folder (PEFT's
/// own words where PEFT raises), and <see cref="Prediction"/>, what the build task's LSDK019 / LSDK020 say before the
/// load happens (prefixed with the component).
/// </summary>
internal sealed class PeftTargetFinding
{
    internal PeftTargetFinding(PeftTargetFindingKind kind, string message, string prediction, string? modulePath = null)
    {
        Kind = kind;
        Message = message;
        Prediction = prediction;
        ModulePath = modulePath;
    }

    /// <summary>What was found.</summary>
    public PeftTargetFindingKind Kind { get; }

    /// <summary>True when the load is refused (PEFT fails, or would compute something the weights do not mean); false for a warning.</summary>
    public bool IsRefusal => Kind switch
    {
        PeftTargetFindingKind.NoTargetModules => false,
        PeftTargetFindingKind.ModulesNotSelected => false,
        PeftTargetFindingKind.UncoveredLayersZeroDelta => false,
        _ => true,
    };

    /// <summary>What is wrong and why, as the engine says it while loading (without the source's label).</summary>
    public string Message { get; }

    /// <summary>The same finding as the build task predicts it for the load to come (without the component's label).</summary>
    public string Prediction { get; }

    /// <summary>The module (rank, DoRA) or the first uncovered layer the finding is about; null when it is about no one module.</summary>
    public string? ModulePath { get; }

    /// <inheritdoc />
    public override string ToString() => Message;
}
