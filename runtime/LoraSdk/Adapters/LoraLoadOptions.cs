using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>How a LoRA file is checked and loaded.</summary>
public sealed class LoraLoadOptions
{
    /// <summary>Default options.</summary>
    public static LoraLoadOptions Default { get; } = new LoraLoadOptions();

    /// <summary>
    /// Throw (before changing anything) when the file has keys that map to no module; default false: they are reported
    /// in <see cref="LoraLoadResult.UnmappedKeys"/> and through the manager's warning callback, as diffusers warns.
    /// </summary>
    public bool ThrowOnUnmappedKeys { get; init; }

    /// <summary>
    /// Load the supported modules of a file that also contains unsupported variants (kohya DoRA, LoCon mid, OFT,
    /// ...), reporting the skipped keys; default false: such a file is refused before anything changes.
    /// </summary>
    public bool SkipUnsupportedVariants { get; init; }

    /// <summary>
    /// The architecture the model is (e.g. <c>sdxl</c>); a file that declares or implies another one is refused.
    /// Null (default) disables the check.
    /// </summary>
    public string? ExpectedArchitecture { get; init; }

    /// <summary>Key-mapping options (UNet layout for kohya/SGM names); null uses the SDXL defaults.</summary>
    public LoraFileModelOptions? FileModelOptions { get; init; }
}
