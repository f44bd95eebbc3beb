using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;
using LoraSdk.Core;

namespace LoraSdk.Merging;

/// <summary>
/// PEFT's task-tensor merges (peft/utils/merge_utils.py: <c>task_arithmetic</c>, <c>magnitude_prune</c>, <c>ties</c>,
/// <c>dare_linear</c>, <c>dare_ties</c>, <c>calculate_majority_sign_mask</c>, <c>disjoint_merge</c>), with the same
/// sequence of torch calls. Tensors created here belong to the caller's dispose scope.
/// </summary>
internal static class TaskTensorMerging
{
    /// <summary>Dispatches one of the five task-tensor merges by the combination type's family.</summary>
    public static Tensor Merge(CombinationType type, IReadOnlyList<Tensor> tasks, Tensor weights, double? density,
        MajoritySignMethod signMethod, DareRandomStream? random)
    {
        switch (type)
        {
            case CombinationType.Linear:
            case CombinationType.Svd:
                return TaskArithmetic(tasks, weights);
            case CombinationType.MagnitudePrune:
            case CombinationType.MagnitudePruneSvd:
                return WeightedSum(Prune(tasks, density!.Value, false, null), weights);
            case CombinationType.Ties:
            case CombinationType.TiesSvd:
                return Ties(Prune(tasks, density!.Value, false, null), weights, signMethod);
            case CombinationType.DareLinear:
            case CombinationType.DareLinearSvd:
                return WeightedSum(Prune(tasks, density!.Value, true, random), weights);
            case CombinationType.DareTies:
            case CombinationType.DareTiesSvd:
                return Ties(Prune(tasks, density!.Value, true, random), weights, signMethod);
            default:
                throw new System.ArgumentOutOfRangeException(nameof(type), type, "not a task-tensor merge");
        }
    }

    /// <summary>Σ wᵢ·tᵢ over the stacked task tensors (PEFT's <c>task_arithmetic</c>).</summary>
    public static Tensor TaskArithmetic(IReadOnlyList<Tensor> tasks, Tensor weights) => WeightedSum(tasks, weights);

    private static Tensor WeightedSum(IReadOnlyList<Tensor> tasks, Tensor weights)
    {
        var stacked = stack(tasks, 0);
        return (stacked * ReshapeWeights(stacked, weights)).sum(0L);
    }

    private static Tensor Ties(IReadOnlyList<Tensor> pruned, Tensor weights, MajoritySignMethod signMethod)
    {
        var stacked = stack(pruned, 0);
        var mask = MajoritySignMask(stacked, signMethod);
        var weighted = stacked * ReshapeWeights(stacked, weights);
        return DisjointMerge(weighted, mask);
    }

    private static List<Tensor> Prune(IReadOnlyList<Tensor> tasks, double density, bool random, DareRandomStream? stream) =>
        tasks.Select(t => Pruning.Prune(t, density, random, rescale: random, stream)).ToList();

    /// <summary>True where a task tensor's sign equals the elected majority sign (PEFT's <c>calculate_majority_sign_mask</c>).</summary>
    public static Tensor MajoritySignMask(Tensor stacked, MajoritySignMethod method)
    {
        var sign = stacked.sign();
        var magnitude = method == MajoritySignMethod.Total ? stacked.sum(0L) : sign.sum(0L);
        var majority = where(magnitude >= 0, ones_like(magnitude), -ones_like(magnitude));
        return sign.eq(majority);
    }

    /// <summary>Mean of the values that agree with the majority sign (PEFT's <c>disjoint_merge</c>).</summary>
    public static Tensor DisjointMerge(Tensor weighted, Tensor majoritySignMask)
    {
        var mixed = (weighted * majoritySignMask).sum(0L);
        var preserved = majoritySignMask.sum(0L);
        return mixed / preserved.clamp(min: 1.0);
    }

    private static Tensor ReshapeWeights(Tensor stacked, Tensor weights)
    {
        var shape = new long[stacked.dim()];
        shape[0] = weights.shape[0];
        for (int i = 1; i < shape.Length; i++) shape[i] = 1;
        return weights.view(shape);
    }
}
