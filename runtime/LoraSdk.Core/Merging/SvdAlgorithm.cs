namespace LoraSdk.Core;

/// <summary>How the svd combination types compute the truncated SVD of the merged delta weight.</summary>
public enum SvdAlgorithm
{
    /// <summary>
    /// <see cref="Dense"/> for the pruned svd types; for plain <c>svd</c> (a weighted sum of low-rank deltas) the same
    /// truncated SVD computed from the stacked factors (QR of Σ-stacked B and Aᵀ, SVD of the small core): identical up
    /// to float rounding and factor signs, and hundreds of times faster on SDXL-sized layers.
    /// </summary>
    Auto,

    /// <summary>Exactly PEFT's computation: <c>torch.linalg.svd</c> of the dense delta weight for every svd type.</summary>
    Dense,
}
