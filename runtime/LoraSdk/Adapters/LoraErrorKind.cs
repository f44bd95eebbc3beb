namespace LoraSdk.Adapters;

/// <summary>Why a LoRA operation failed (see <see cref="LoraException"/>).</summary>
public enum LoraErrorKind
{
    /// <summary>The adapter name is already used in a component (diffusers' ValueError).</summary>
    DuplicateAdapterName,

    /// <summary>An adapter name that no component holds (diffusers' ValueError of <c>set_adapters</c>).</summary>
    UnknownAdapter,

    /// <summary>The number of weights does not match the number of adapter names.</summary>
    WeightsLengthMismatch,

    /// <summary>A UNet block-scale dict has the wrong number of scales for a block.</summary>
    BlockScaleLength,

    /// <summary>A UNet block-scale dict names a block without attentions or that does not exist.</summary>
    UnknownBlock,

    /// <summary>A weight value has an unsupported shape (e.g. a dict where a number is needed).</summary>
    InvalidWeights,

    /// <summary>A LoRA tensor does not fit the base layer (the message names the layer and both shapes).</summary>
    ShapeMismatch,

    /// <summary>The file addresses a module that the component does not have or that is not a LoRA-capable layer.</summary>
    MissingModule,

    /// <summary>A LoRA targets a layer of another kind (Linear vs Conv2d) or with another kernel/stride/padding.</summary>
    LayerKindMismatch,

    /// <summary>The file was made for another base architecture.</summary>
    ArchitectureMismatch,

    /// <summary>The file uses a LoRA variant the engine does not implement (LoCon mid, DoRA, LoHa, ...).</summary>
    UnsupportedVariant,

    /// <summary>The file has keys that map to no component module (only with strict unmapped-key handling).</summary>
    UnmappedKeys,

    /// <summary>Nothing in the file could be loaded into any component.</summary>
    NothingToLoad,

    /// <summary><c>enable_lora_hotswap</c> was called after an adapter was loaded (diffusers' RuntimeError).</summary>
    HotswapAfterLoad,

    /// <summary>Hotswap into an adapter name that does not exist (diffusers' ValueError).</summary>
    HotswapUnknownAdapter,

    /// <summary>The new adapter targets layers the old one does not have (diffusers' RuntimeError, unexpected keys).</summary>
    HotswapUnexpectedKeys,

    /// <summary>Hotswap of a text-encoder part (diffusers' ValueError).</summary>
    HotswapTextEncoder,

    /// <summary>The new adapter's rank exceeds the loaded (padded) rank; swapping would reallocate.</summary>
    HotswapRankTooLarge,

    /// <summary>The adapters' configs differ in a way hotswap cannot handle (PEFT's ValueError).</summary>
    HotswapIncompatibleConfig,

    /// <summary>Safe fusing found NaN or Inf in a fused weight (PEFT's ValueError).</summary>
    NonFiniteFusedWeights,

    /// <summary>An unknown component name.</summary>
    UnknownComponent,

    /// <summary>The adapter is not in this component (e.g. <c>save_lora_adapter</c>).</summary>
    AdapterNotFound,

    /// <summary>The model has a layer type that cannot be made LoRA-capable in place.</summary>
    UnsupportedLayer,

    /// <summary>The LoRA path names no file or folder, or a folder without a LoRA file, or a missing weight name.</summary>
    SourceNotFound,

    /// <summary>The LoRA folder holds several <c>.safetensors</c> files and no weight name chooses one.</summary>
    AmbiguousSource,

    /// <summary>
    /// A PEFT adapter config sets a field that changes inference in a way the SDK does not implement (DoRA, biases,
    /// modules_to_save, LoRA variants, ...); see <c>LoraSdk.Core.PeftConfigPolicy</c>.
    /// </summary>
    UnsupportedConfig,

    /// <summary>A PEFT adapter config and its weights disagree: the config targets layers the weights do not cover and PEFT would fill them with random weights.</summary>
    AdapterConfigMismatch,

    /// <summary>
    /// The change would alter what the CUDA graphs captured over a pinned component compute (another set of active
    /// adapters, a new adapter, fuse/unfuse, another forward mode, deleting or moving an adapter a graph reads), and a
    /// <see cref="LoraGraphPinPolicy.Refuse"/> pin holds the component (see <see cref="LoraComponent.PinForGraphs"/>).
    /// </summary>
    GraphPinned,

    /// <summary>A LoRA state change was asked for while a CUDA graph capture is under way (it would be recorded or missed).</summary>
    GraphCaptureUnderway,

    /// <summary>
    /// A LoRA layer ran active adapters inside a CUDA graph capture without a graph pin: the graph would freeze the
    /// scales and the forward plan, and later changes would silently not reach its replays.
    /// </summary>
    GraphNotPinned,

    /// <summary>The component cannot be pinned for CUDA graphs as it is (Auto forward mode, a non-LoRA variant, an active adapter left out of the pin).</summary>
    GraphUnsupported,
}
