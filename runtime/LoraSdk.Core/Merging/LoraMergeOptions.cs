namespace LoraSdk.Core;

/// <summary>
/// The keyword arguments of PEFT's <c>add_weighted_adapter</c> (except <c>svd_driver</c>, which only selects a CUDA
/// solver), plus the seed of the DARE types.
/// </summary>
public sealed class LoraMergeOptions
{
    /// <summary>PEFT's <c>combination_type</c>; PEFT's default is <see cref="CombinationType.Svd"/>.</summary>
    public CombinationType CombinationType { get; init; } = CombinationType.Svd;

    /// <summary>
    /// PEFT's <c>svd_rank</c>: the rank of the merged adapter for the svd types; null or 0 (falsy in PEFT) means the
    /// largest source rank. Ignored by the other types.
    /// </summary>
    public int? SvdRank { get; init; }

    /// <summary>PEFT's <c>svd_clamp</c>: quantile in [0, 1] at which the SVD factors are clamped; null = no clamping.</summary>
    public double? SvdClamp { get; init; }

    /// <summary>PEFT's <c>svd_full_matrices</c> (default true): full or reduced SVD of the dense delta.</summary>
    public bool SvdFullMatrices { get; init; } = true;

    /// <summary>
    /// How the svd types factorise (default <see cref="SvdAlgorithm.Auto"/>: a fast exact low-rank path for plain
    /// <c>svd</c>); <see cref="SvdAlgorithm.Dense"/> reproduces PEFT's dense <c>torch.linalg.svd</c> call literally.
    /// </summary>
    public SvdAlgorithm SvdAlgorithm { get; init; } = SvdAlgorithm.Auto;

    /// <summary>
    /// PEFT's <c>density</c>: the fraction of values kept by pruning (ties, dare_*, magnitude_prune and their svd forms
    /// need it). Values ≥ 1 prune nothing (PEFT warns); negative values are refused; the DARE types also refuse 0
    /// (PEFT would divide by it and produce NaN).
    /// </summary>
    public double? Density { get; init; }

    /// <summary>PEFT's <c>majority_sign_method</c> (default <c>total</c>) for the TIES types.</summary>
    public MajoritySignMethod MajoritySignMethod { get; init; } = MajoritySignMethod.Total;

    /// <summary>
    /// Seed of the DARE random pruning. The masks equal PEFT's on CPU after <c>torch.manual_seed(Seed)</c> immediately
    /// before <c>add_weighted_adapter</c>, provided the layers are passed in the model's module order and
    /// <see cref="Initialization"/> matches the first source adapter's <c>init_lora_weights</c>. Null picks a fresh
    /// seed, reported with the merge result. The same seed always gives the same merge.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>The first source adapter's <c>init_lora_weights</c>; only affects the DARE random stream (see there).</summary>
    public MergedAdapterInitialization Initialization { get; init; } = MergedAdapterInitialization.KaimingUniform;
}
