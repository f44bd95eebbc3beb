using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>One LoRA-able layer (a <c>Linear</c> or <c>Conv2d</c>) of a base model, as a layout enumerates it.</summary>
public sealed class BaseModuleInfo
{
    /// <summary>Creates a description.</summary>
    public BaseModuleInfo(string path, string? sgmPath, LoraLayerKind kind, long inFeatures, long outFeatures,
        IReadOnlyList<int>? kernelSize = null, IReadOnlyList<int>? stride = null, IReadOnlyList<int>? padding = null)
    {
        Path = path;
        SgmPath = sgmPath;
        Kind = kind;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
    }

    /// <summary>Module path in diffusers / transformers naming (text encoders without <c>text_model.</c>).</summary>
    public string Path { get; }

    /// <summary>The same module in SGM/LDM naming (<c>input_blocks.4.1.proj_in</c>), or null where none exists.</summary>
    public string? SgmPath { get; }

    /// <summary>Linear or Conv2d.</summary>
    public LoraLayerKind Kind { get; }

    /// <summary>Input features (Linear) or input channels (Conv2d).</summary>
    public long InFeatures { get; }

    /// <summary>Output features (Linear) or output channels (Conv2d).</summary>
    public long OutFeatures { get; }

    /// <summary>Kernel (height, width) for Conv2d; null for Linear.</summary>
    public IReadOnlyList<int>? KernelSize { get; }

    /// <summary>Stride (height, width) for Conv2d; null for Linear.</summary>
    public IReadOnlyList<int>? Stride { get; }

    /// <summary>Padding (height, width) for Conv2d; null for Linear.</summary>
    public IReadOnlyList<int>? Padding { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Path} {Kind} {InFeatures}->{OutFeatures}";
}
