using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>How diffusers treats a converted Flux module's alpha.</summary>
internal enum FluxAlphaFold
{
    /// <summary>No alpha in the layout (XLabs, BFL): the module gets alpha = rank.</summary>
    None,

    /// <summary>kohya single layer: <c>alpha.item() / rank</c> in double precision, folded as scale_down × scale_up.</summary>
    Scalar,

    /// <summary>kohya fused layer / <c>lora_transformer_</c>: <c>alpha / rank</c> computed as a tensor in the alpha's dtype, folded.</summary>
    Tensor,

    /// <summary>An <c>.alpha</c> tensor is kept as the module's lora_alpha (PEFT semantics, not folded).</summary>
    Keep,
}

/// <summary>One diffusers module produced by the Flux conversion: where its tensors come from and how they are transformed.</summary>
internal sealed class FluxModuleSource
{
    public FluxModuleSource(string component, string path, string format, string sourceModule, string aKey, string bKey, string? alphaKey,
        IReadOnlyList<string> keys, int splitIndex, int splitCount, FluxModuleNames.Split split, bool swapUpHalves, FluxAlphaFold fold,
        bool blockDiagonalCandidate)
    {
        Component = component;
        Path = path;
        Format = format;
        SourceModule = sourceModule;
        AKey = aKey;
        BKey = bKey;
        AlphaKey = alphaKey;
        Keys = keys;
        SplitIndex = splitIndex;
        SplitCount = splitCount;
        Split = split;
        SwapBHalves = swapUpHalves;
        Fold = fold;
        BlockDiagonalCandidate = blockDiagonalCandidate;
    }

    public string Component { get; }

    public string Path { get; }

    public string Format { get; }

    public string SourceModule { get; }

    public string AKey { get; }

    public string BKey { get; }

    public string? AlphaKey { get; }

    /// <summary>Every file key of the source layer (A, B, alpha).</summary>
    public IReadOnlyList<string> Keys { get; }

    public int SplitIndex { get; }

    public int SplitCount { get; }

    public FluxModuleNames.Split Split { get; }

    public bool SwapBHalves { get; }

    public FluxAlphaFold Fold { get; }

    public bool BlockDiagonalCandidate { get; }
}
