namespace LoraSdk.Core;

/// <summary>One file key canonicalized to (component, diffusers module path, role).</summary>
public sealed class LoraKeyMapping
{
    /// <summary>Creates a mapping.</summary>
    public LoraKeyMapping(string key, string component, string? modulePath, LoraTensorRole role, string format, string? variant = null)
    {
        Key = key;
        Component = component;
        ModulePath = modulePath;
        Role = role;
        Format = format;
        Variant = variant;
    }

    /// <summary>The key as written in the file.</summary>
    public string Key { get; }

    /// <summary>One of <see cref="LoraComponents"/>.</summary>
    public string Component { get; }

    /// <summary>
    /// Module path in diffusers naming (text encoders without <c>text_model.</c>); null only for tensors of an
    /// unsupported variant whose module name could not be resolved.
    /// </summary>
    public string? ModulePath { get; }

    /// <summary>The tensor's role within its module.</summary>
    public LoraTensorRole Role { get; }

    /// <summary>The key family (<see cref="LoraKeyFormats"/>).</summary>
    public string Format { get; }

    /// <summary>
    /// For <see cref="LoraTensorRole.VariantTensor"/>, <see cref="LoraTensorRole.BBias"/> and the LoHa/LoKr roles: the
    /// variant name (<c>loha</c>, <c>lokr</c>, <c>dora_scale</c>, ...); null for LoRA/DoRA tensors.
    /// </summary>
    public string? Variant { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Key} -> {Component}:{ModulePath} {Role}";
}
