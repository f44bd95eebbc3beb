namespace LoraSdk.Typed;

/// <summary>PEFT combination types that need adapters of equal rank (typed by <see cref="EqualRankMerge{TBase, TRank}"/>).</summary>
public enum EqualRankCombination
{
    /// <summary><c>linear</c>: weighted sum of lora_A and of lora_B.</summary>
    Linear,
    /// <summary><c>ties</c>: TIES merging (trim to <c>density</c>, elect signs, disjoint merge).</summary>
    Ties,
    /// <summary><c>dare_linear</c>: DARE random pruning with rescaling, then a weighted sum.</summary>
    DareLinear,
    /// <summary><c>dare_ties</c>: DARE pruning, then TIES sign election.</summary>
    DareTies,
    /// <summary><c>magnitude_prune</c>: magnitude pruning to <c>density</c>, then a weighted sum.</summary>
    MagnitudePrune,
}
