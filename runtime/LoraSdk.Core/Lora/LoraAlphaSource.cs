namespace LoraSdk.Core;

/// <summary>Where a module's alpha came from (highest priority first).</summary>
public enum LoraAlphaSource
{
    /// <summary><c>lora_alpha</c> of the diffusers <c>lora_adapter_metadata</c> (PEFT LoraConfig) in <c>__metadata__</c>.</summary>
    Metadata,

    /// <summary>An <c>alpha_pattern</c> entry of that metadata matching the module.</summary>
    MetadataPattern,

    /// <summary>The module's own <c>.alpha</c> scalar tensor.</summary>
    Tensor,

    /// <summary>
    /// The module has no <c>.alpha</c> tensor but others of its component do: diffusers gives it the most frequent
    /// alpha of the component (<c>get_peft_kwargs</c>).
    /// </summary>
    TensorDefault,

    /// <summary>
    /// No metadata and no alpha tensors: diffusers uses the rank of the component's first module (in key order) as
    /// <c>lora_alpha</c> for every module, which is the module's own rank whenever ranks are uniform. A LoHa or LoKr
    /// module without <c>.alpha</c> gets its own rank (scale 1, as LyCORIS, ComfyUI and stable-diffusion.cpp apply it).
    /// </summary>
    RankDefault,

    /// <summary>An <c>.alpha</c> tensor exists but no tensor reader was given (header-only model); alpha = rank.</summary>
    Unresolved,

    /// <summary>
    /// The file's alpha / rank was folded into the tensors as diffusers converts kohya Flux files
    /// (<see cref="LoraModuleConversion.AScale"/> × <see cref="LoraModuleConversion.BScale"/>); the module then has
    /// alpha = rank (scaling 1).
    /// </summary>
    FoldedIntoWeights,

    /// <summary>
    /// A LoKr module whose two Kronecker factors are both full matrices: LyCORIS ignores the file's alpha and scales by 1
    /// (rank and alpha are reported as 1).
    /// </summary>
    Ignored,
}
