using System;
using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>
/// PEFT's pruning primitives (peft/utils/merge_utils.py: <c>prune</c>, <c>magnitude_based_pruning</c>,
/// <c>random_pruning</c>), with the same torch calls so the numbers and the random stream match.
/// Tensors created here belong to the caller's dispose scope.
/// </summary>
internal static class Pruning
{
    /// <summary>Keeps the <c>int(density · numel)</c> largest-magnitude values (PEFT's <c>magnitude_based_pruning</c>).</summary>
    public static Tensor MagnitudeBased(Tensor tensor, double density)
    {
        var mask = zeros_like(tensor).reshape(-1);
        long k = (long)(density * tensor.numel());
        if (k > int.MaxValue) throw new NotSupportedException("magnitude pruning of more than 2^31 values at once");
        var (_, indexes) = tensor.abs().reshape(-1).topk((int)k, dim: -1, largest: true);
        mask.index_put_(1, indexes);
        return tensor * mask.reshape(tensor.shape);
    }

    /// <summary>
    /// Keeps each value with probability <paramref name="density"/> (torch.bernoulli of a full_like tensor), then
    /// divides by density when <paramref name="rescale"/> (PEFT's <c>random_pruning</c>).
    /// </summary>
    public static Tensor Random(Tensor tensor, double density, bool rescale, DareRandomStream random)
    {
        var mask = random.BernoulliMaskLike(tensor, density);
        var pruned = tensor * mask;
        return rescale ? pruned / density : pruned;
    }

    /// <summary>PEFT's <c>prune</c>: density ≥ 1 returns the tensor unchanged (no random draws).</summary>
    public static Tensor Prune(Tensor tensor, double density, bool random, bool rescale, DareRandomStream? stream)
    {
        if (density >= 1) return tensor;
        if (!random) return MagnitudeBased(tensor, density);
        if (stream == null) throw new InvalidOperationException("random pruning needs a random stream");
        return Random(tensor, density, rescale, stream);
    }
}
