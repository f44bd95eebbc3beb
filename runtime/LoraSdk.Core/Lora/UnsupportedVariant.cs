using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>Tensors of an adapter variant this SDK detects but does not apply (reported, never dropped silently).</summary>
public sealed class UnsupportedVariant
{
    /// <summary>Creates a report.</summary>
    public UnsupportedVariant(string variant, IReadOnlyList<string> keys)
    {
        Variant = variant;
        Keys = keys;
    }

    /// <summary>The variant (<see cref="LoraVariants"/>: <c>dora_scale</c>, <c>oft</c>, <c>locon_mid (Tucker)</c>, ...).</summary>
    public string Variant { get; }

    /// <summary>Every file key of the affected modules, ordinal-sorted.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Variant} ({Keys.Count} keys)";
}
