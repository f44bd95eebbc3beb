namespace LoraSdk.Merging;

/// <summary>Why a merge was refused (see <see cref="LoraMergeException"/>).</summary>
public enum LoraMergeErrorKind
{
    /// <summary>The combination type string is not one of PEFT's.</summary>
    InvalidCombinationType,

    /// <summary>The majority sign method string is not <c>total</c> or <c>frequency</c>.</summary>
    InvalidMajoritySignMethod,

    /// <summary>No adapters were given, or the weights do not match the adapters one to one.</summary>
    InvalidAdapters,

    /// <summary>linear / ties / dare_* / magnitude_prune need adapters of equal rank.</summary>
    RankMismatch,

    /// <summary><c>svd_rank</c> is not a positive integer.</summary>
    InvalidRank,

    /// <summary><c>density</c> is missing, negative or otherwise unusable for the combination type.</summary>
    InvalidDensity,

    /// <summary><c>svd_clamp</c> is outside [0, 1].</summary>
    InvalidClamp,

    /// <summary>A weight is not a finite number.</summary>
    InvalidWeight,

    /// <summary>A layer's LoRA factors are missing or have shapes that cannot be merged.</summary>
    InvalidLayer,
}
