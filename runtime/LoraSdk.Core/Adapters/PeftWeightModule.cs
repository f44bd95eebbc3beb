using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// One module of a PEFT adapter folder's weights, as <see cref="PeftTargetSelection"/> sees it: where it is, the names
/// PEFT may know it by, the kind of layer it adapts, its rank, and whether it carries a DoRA magnitude vector.
/// </summary>
internal sealed class PeftWeightModule
{
    /// <param name="path">The module path as the weights name it.</param>
    /// <param name="names">The names PEFT may know the module by (the path first; aliases such as the <c>text_model.</c> form).</param>
    /// <param name="isLinear">True when the layer it adapts is a Linear layer (what <c>"all-linear"</c> selects).</param>
    /// <param name="rank">The module's rank in the weights.</param>
    /// <param name="aShape">lora_A's shape; null for a module without one (LoHa, LoKr), whose rank PEFT does not check.</param>
    /// <param name="usesDora">True when the module carries a <c>lora_magnitude_vector</c>.</param>
    /// <param name="layerPath">The path of the model layer it lands on (after any path mapping); null when the model has no such layer.</param>
    public PeftWeightModule(string path, IReadOnlyList<string> names, bool isLinear, int rank, IReadOnlyList<long>? aShape, bool usesDora, string? layerPath)
    {
        Path = path ?? throw new ArgumentNullException(nameof(path));
        if (names is null || names.Count == 0) throw new ArgumentException("a module needs a name", nameof(names));
        Names = names;
        IsLinear = isLinear;
        Rank = rank;
        AShape = aShape;
        UsesDora = usesDora;
        LayerPath = layerPath;
    }

    /// <summary>The module path as the weights name it.</summary>
    public string Path { get; }

    /// <summary>The names PEFT may know the module by.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>True when the layer it adapts is a Linear layer.</summary>
    public bool IsLinear { get; }

    /// <summary>The module's rank in the weights.</summary>
    public int Rank { get; }

    /// <summary>lora_A's shape, or null for a module without one.</summary>
    public IReadOnlyList<long>? AShape { get; }

    /// <summary>True when the module carries a DoRA magnitude vector.</summary>
    public bool UsesDora { get; }

    /// <summary>The model layer it lands on, or null.</summary>
    public string? LayerPath { get; }

    /// <inheritdoc />
    public override string ToString() => Path;
}
