namespace LoraSdk.Core;

/// <summary>
/// PEFT's <c>combination_type</c> of <c>LoraModel.add_weighted_adapter</c>: how several adapters become one.
/// <see cref="CombinationTypes"/> holds the rules PEFT attaches to each type and PEFT's names for them.
/// </summary>
public enum CombinationType
{
    /// <summary><c>svd</c>: weighted sum of the delta weights (task arithmetic), re-factorised by SVD.</summary>
    Svd,

    /// <summary><c>linear</c>: weighted sum of lora_A and of lora_B separately (equal ranks).</summary>
    Linear,

    /// <summary><c>cat</c>: concatenation of the weighted lora_A and the lora_B; the ranks add up.</summary>
    Cat,

    /// <summary><c>ties</c>: TIES (magnitude pruning, sign election, disjoint mean) on lora_A and lora_B (equal ranks).</summary>
    Ties,

    /// <summary><c>ties_svd</c>: TIES on the delta weights, re-factorised by SVD.</summary>
    TiesSvd,

    /// <summary><c>dare_linear</c>: DARE random pruning with rescaling, then weighted sum, on lora_A and lora_B (equal ranks).</summary>
    DareLinear,

    /// <summary><c>dare_ties</c>: DARE random pruning with rescaling, then TIES sign election, on lora_A and lora_B (equal ranks).</summary>
    DareTies,

    /// <summary><c>dare_linear_svd</c>: <c>dare_linear</c> on the delta weights, re-factorised by SVD.</summary>
    DareLinearSvd,

    /// <summary><c>dare_ties_svd</c>: <c>dare_ties</c> on the delta weights, re-factorised by SVD.</summary>
    DareTiesSvd,

    /// <summary><c>magnitude_prune</c>: magnitude pruning then weighted sum, on lora_A and lora_B (equal ranks).</summary>
    MagnitudePrune,

    /// <summary><c>magnitude_prune_svd</c>: <c>magnitude_prune</c> on the delta weights, re-factorised by SVD.</summary>
    MagnitudePruneSvd,
}
