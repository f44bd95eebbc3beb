namespace LoraSdk.Diffusion.Loading;

/// <summary>Why loading a diffusers pipeline folder or one of its components failed.</summary>
public enum ModelLoadErrorKind
{
    /// <summary>A required file or folder does not exist.</summary>
    MissingFile,

    /// <summary>A JSON file is malformed, or a config entry has the wrong type or an invalid value.</summary>
    InvalidConfig,

    /// <summary>A weight file is not a valid safetensors file (bad header, truncated data).</summary>
    InvalidWeightFile,

    /// <summary>The config asks for a feature this host does not implement.</summary>
    UnsupportedConfiguration,

    /// <summary>The weights are stored in a format that is refused (pickle: <c>.bin</c>, <c>.ckpt</c>, <c>.pt</c>, <c>.pth</c>).</summary>
    UnsupportedFileFormat,

    /// <summary>A weight the model needs is not in the weight files.</summary>
    MissingWeight,

    /// <summary>The weight files hold a tensor the model does not have.</summary>
    UnexpectedWeight,

    /// <summary>A stored tensor's shape differs from the model's parameter.</summary>
    ShapeMismatch,

    /// <summary>The same weight appears twice (for example with and without the <c>text_model.</c> prefix, or in two shards).</summary>
    DuplicateWeight,

    /// <summary>A stored tensor has a dtype that cannot be converted to a floating-point parameter.</summary>
    UnsupportedDType,
}
