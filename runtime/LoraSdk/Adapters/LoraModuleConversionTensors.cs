using System;
using System.Collections.Generic;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// Applies a <see cref="LoraModuleConversion"/> to file tensors the way diffusers' Flux conversions do, in the file's
/// dtype (so bfloat16 files round like diffusers): scale, then the module's row range of lora_up, then the halves swap;
/// and decides kohya's block-diagonal case (<see cref="LoraModuleConversion.BlockDiagonalCandidate"/>) from the data.
/// Every returned tensor is new and owned by the caller.
/// </summary>
internal static class LoraModuleConversionTensors
{
    /// <summary>A (lora_A) of the module: the file's A tensor × <see cref="LoraModuleConversion.AScale"/>.</summary>
    public static Tensor A(Tensor fileA, LoraModuleConversion c) => Scaled(fileA, c.AScale);

    /// <summary>B (lora_B) of the module: its rows of the file's B tensor × <see cref="LoraModuleConversion.BScale"/>, halves swapped when asked.</summary>
    public static Tensor B(Tensor fileB, LoraModuleConversion c)
    {
        using var scope = NewDisposeScope();
        Tensor t = Scaled(fileB, c.BScale);
        if (c.BRowStart != 0 || c.BRowCount != t.shape[0]) t = t.narrow(0, c.BRowStart, c.BRowCount);
        if (c.SwapBHalves)
        {
            // diffusers' swap_scale_shift: (shift, scale) → (scale, shift).
            var halves = t.chunk(2, 0);
            t = cat(new[] { halves[1], halves[0] }, 0);
        }
        return t.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// diffusers' sparse test of <c>_convert_to_ai_toolkit_cat</c>: with rank r = n·a, lora_up (already scaled) is
    /// block-diagonal when every part's rows are zero in every other part's a columns (B is lora_up).
    /// </summary>
    public static bool IsBlockDiagonal(Tensor scaledB, IReadOnlyList<LoraModuleConversion> parts, int rank)
    {
        int n = parts.Count;
        if (n < 2 || rank % n != 0) return false;
        long a = rank / n;
        using var scope = NewDisposeScope();
        foreach (var part in parts)
        {
            for (int k = 0; k < n; k++)
            {
                if (k == part.SplitIndex) continue;
                var block = scaledB.narrow(0, part.BRowStart, part.BRowCount).narrow(1, k * a, a);
                if (block.ne(0).any().item<bool>()) return false;
            }
        }
        return true;
    }

    /// <summary>The block-diagonal split of one part: rows j·a…(j+1)·a of the scaled A.</summary>
    public static Tensor BlockA(Tensor fileA, LoraModuleConversion c, int rank)
    {
        long a = rank / c.SplitCount;
        using var scope = NewDisposeScope();
        return Scaled(fileA, c.AScale).narrow(0, c.SplitIndex * a, a).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The block-diagonal split of one part: its rows and its own a columns of the scaled B.</summary>
    public static Tensor BlockB(Tensor fileB, LoraModuleConversion c, int rank)
    {
        long a = rank / c.SplitCount;
        using var scope = NewDisposeScope();
        return Scaled(fileB, c.BScale).narrow(0, c.BRowStart, c.BRowCount).narrow(1, c.SplitIndex * a, a).contiguous().MoveToOuterDisposeScope();
    }

    // torch multiplies by a Python float (or a 0-dim float tensor) in the tensor's dtype with the factor as float32.
    private static Tensor Scaled(Tensor t, double factor) => factor == 1.0 ? t.alias() : t.mul((float)factor);
}
