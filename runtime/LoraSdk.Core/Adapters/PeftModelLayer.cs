using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// One LoRA-capable layer (Linear or Conv2d) of the model a PEFT adapter folder is loaded into, as
/// <see cref="PeftTargetSelection"/> sees it: the layers the config targets that the weights do not cover are PEFT's
/// "missing adapter keys".
/// </summary>
internal sealed class PeftModelLayer
{
    /// <param name="path">The layer's path in the model.</param>
    /// <param name="names">The names PEFT may know the layer by (the path first, then aliases).</param>
    /// <param name="isLinear">True for a Linear layer, false for a Conv2d layer.</param>
    public PeftModelLayer(string path, IReadOnlyList<string> names, bool isLinear)
    {
        Path = path ?? throw new ArgumentNullException(nameof(path));
        if (names is null || names.Count == 0) throw new ArgumentException("a layer needs a name", nameof(names));
        Names = names;
        IsLinear = isLinear;
    }

    /// <summary>The layer's path in the model.</summary>
    public string Path { get; }

    /// <summary>The names PEFT may know the layer by.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>True for a Linear layer.</summary>
    public bool IsLinear { get; }

    /// <inheritdoc />
    public override string ToString() => Path;
}
