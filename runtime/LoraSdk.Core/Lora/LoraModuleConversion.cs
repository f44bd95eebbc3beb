using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// How a module's A / B (lora_A / lora_B) are derived from the file's tensors when the file stores them differently from
/// diffusers — kohya / XLabs / BFL Flux files, as diffusers' <c>lora_conversion_utils.py</c> converts them:
/// a fused layer (q/k/v, single-block <c>linear1</c>) feeds several modules that share A and take a row range of
/// B; kohya's alpha is folded into the tensors (scaled by <see cref="AScale"/> / <see cref="BScale"/>, whose
/// product is alpha / rank) and the module then has alpha = rank; the final layer's B halves are swapped.
/// Applied in this order on the tensors in the file's dtype: scale, row range, swap — then converted to the layer's dtype.
/// </summary>
public sealed class LoraModuleConversion
{
    internal LoraModuleConversion(string sourceModule, double aScale, double bScale, long bRowStart, long bRowCount,
        bool swapBHalves, int splitIndex, int splitCount, bool blockDiagonalCandidate)
    {
        SourceModule = sourceModule;
        AScale = aScale;
        BScale = bScale;
        BRowStart = bRowStart;
        BRowCount = bRowCount;
        SwapBHalves = swapBHalves;
        SplitIndex = splitIndex;
        SplitCount = splitCount;
        BlockDiagonalCandidate = blockDiagonalCandidate;
    }

    /// <summary>The file's name of the layer the tensors belong to (e.g. <c>lora_unet_double_blocks_0_img_attn_qkv</c>).</summary>
    public string SourceModule { get; }

    /// <summary>Factor applied to the file's A tensor (kohya lora_down) (1 when nothing is folded).</summary>
    public double AScale { get; }

    /// <summary>Factor applied to the file's B tensor (kohya lora_up) (1 when nothing is folded).</summary>
    public double BScale { get; }

    /// <summary>First row of the file's B tensor this module takes.</summary>
    public long BRowStart { get; }

    /// <summary>Rows of the file's B tensor this module takes (all rows when the module is not split).</summary>
    public long BRowCount { get; }

    /// <summary>True when the two halves of B's rows are swapped (diffusers' <c>swap_scale_shift</c>).</summary>
    public bool SwapBHalves { get; }

    /// <summary>Position of this module among the modules the file layer is split into.</summary>
    public int SplitIndex { get; }

    /// <summary>How many modules the file layer is split into (1: not split).</summary>
    public int SplitCount { get; }

    /// <summary>
    /// kohya fused layer whose rank is a multiple of <see cref="SplitCount"/>: when its B (lora_up) turns out to be
    /// block-diagonal (every part's rows zero outside its own rank slice — what sd-scripts' split-qkv training writes),
    /// diffusers gives each module only its rank slice (rank / n) instead of sharing the whole A. Deciding it
    /// needs the tensor data, so the loader checks; the header-level model reports the file's rank.
    /// </summary>
    public bool BlockDiagonalCandidate { get; }

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "{0}: rows {1}+{2} of {3}, scale down {4:R} up {5:R}{6}", SourceModule, BRowStart, BRowCount, SplitCount, AScale, BScale,
        SwapBHalves ? ", halves swapped" : "");
}
