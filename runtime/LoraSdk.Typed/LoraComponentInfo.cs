using System;
using System.Collections.Generic;

namespace LoraSdk.Typed;

/// <summary>
/// One component of an adapter (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>): its rank and alpha (the
/// most common values, like the <c>r</c>/<c>lora_alpha</c> of the PEFT config diffusers derives), the modules
/// deviating from them, and the module paths it targets (diffusers naming).
/// </summary>
public sealed class LoraComponentInfo
{
    private static readonly IReadOnlyDictionary<string, int> NoRanks = new Dictionary<string, int>();
    private static readonly IReadOnlyDictionary<string, double> NoAlphas = new Dictionary<string, double>();
    private readonly string _packedModules;
    private IReadOnlyList<string>? _targetModules;

    /// <summary>Creates the component description (called by generated code).</summary>
    /// <param name="name">Component name.</param>
    /// <param name="rank">Most common module rank.</param>
    /// <param name="alpha">Most common module alpha.</param>
    /// <param name="scaling">Scaling of a module with <paramref name="rank"/> and <paramref name="alpha"/>.</param>
    /// <param name="moduleCount">Number of LoRA modules.</param>
    /// <param name="conv2dModuleCount">How many of them are Conv2d layers.</param>
    /// <param name="packedTargetModules">The module paths, ordinal-sorted, separated by <c>'\n'</c>.</param>
    /// <param name="rankPattern">Modules whose rank differs from <paramref name="rank"/> (null = none).</param>
    /// <param name="alphaPattern">Modules whose alpha differs from <paramref name="alpha"/> (null = none).</param>
    public LoraComponentInfo(string name, int rank, double alpha, double scaling, int moduleCount, int conv2dModuleCount,
        string packedTargetModules, IReadOnlyDictionary<string, int>? rankPattern = null,
        IReadOnlyDictionary<string, double>? alphaPattern = null)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Rank = rank;
        Alpha = alpha;
        Scaling = scaling;
        ModuleCount = moduleCount;
        Conv2dModuleCount = conv2dModuleCount;
        _packedModules = packedTargetModules ?? throw new ArgumentNullException(nameof(packedTargetModules));
        RankPattern = rankPattern ?? NoRanks;
        AlphaPattern = alphaPattern ?? NoAlphas;
    }

    /// <summary>
    /// Creates the component description from a module list (called by generated code when a module path contains
    /// <c>'\n'</c>, the separator of the packed form).
    /// </summary>
    /// <param name="name">Component name.</param>
    /// <param name="rank">Most common module rank.</param>
    /// <param name="alpha">Most common module alpha.</param>
    /// <param name="scaling">Scaling of a module with <paramref name="rank"/> and <paramref name="alpha"/>.</param>
    /// <param name="moduleCount">Number of LoRA modules.</param>
    /// <param name="conv2dModuleCount">How many of them are Conv2d layers.</param>
    /// <param name="targetModules">The module paths, ordinal-sorted.</param>
    /// <param name="rankPattern">Modules whose rank differs from <paramref name="rank"/> (null = none).</param>
    /// <param name="alphaPattern">Modules whose alpha differs from <paramref name="alpha"/> (null = none).</param>
    public LoraComponentInfo(string name, int rank, double alpha, double scaling, int moduleCount, int conv2dModuleCount,
        IReadOnlyList<string> targetModules, IReadOnlyDictionary<string, int>? rankPattern = null,
        IReadOnlyDictionary<string, double>? alphaPattern = null)
        : this(name, rank, alpha, scaling, moduleCount, conv2dModuleCount, "", rankPattern, alphaPattern)
    {
        _targetModules = targetModules ?? throw new ArgumentNullException(nameof(targetModules));
    }

    /// <summary>Component name (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>).</summary>
    public string Name { get; }

    /// <summary>Most common module rank.</summary>
    public int Rank { get; }

    /// <summary>Most common module alpha.</summary>
    public double Alpha { get; }

    /// <summary>Scaling of a module with <see cref="Rank"/> and <see cref="Alpha"/>.</summary>
    public double Scaling { get; }

    /// <summary>Number of LoRA modules.</summary>
    public int ModuleCount { get; }

    /// <summary>How many of the modules are Conv2d layers (the rest are Linear).</summary>
    public int Conv2dModuleCount { get; }

    /// <summary>Module path → rank, for modules whose rank differs from <see cref="Rank"/>.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; }

    /// <summary>Module path → alpha, for modules whose alpha differs from <see cref="Alpha"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; }

    /// <summary>The targeted module paths in diffusers naming, ordinal-sorted.</summary>
    public IReadOnlyList<string> TargetModules =>
        _targetModules ??= _packedModules.Length == 0 ? new string[0] : _packedModules.Split('\n');

    /// <summary>The rank of module <paramref name="modulePath"/> (<see cref="Rank"/> unless listed in <see cref="RankPattern"/>).</summary>
    public int RankOf(string modulePath) => RankPattern.TryGetValue(modulePath, out int r) ? r : Rank;

    /// <summary>The alpha of module <paramref name="modulePath"/> (<see cref="Alpha"/> unless listed in <see cref="AlphaPattern"/>).</summary>
    public double AlphaOf(string modulePath) => AlphaPattern.TryGetValue(modulePath, out double a) ? a : Alpha;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {ModuleCount} modules, rank {Rank}, alpha {Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
}
