using LoraSdk.Core;
using LoraSdk.Merging;

namespace LoraSdk.Compatibility;

/// <summary>
/// The edge where PEFT's and diffusers' strings enter the SDK (CLI arguments, manifests, scripts ported from Python):
/// each parses into the SDK's enum or fails with PEFT's own message. Inside the SDK only the enums travel.
/// </summary>
public static class PeftNames
{
    /// <summary>Parses PEFT's <c>combination_type</c> string (exact, case-sensitive, like PEFT).</summary>
    /// <exception cref="LoraMergeException">PEFT's <c>Invalid combination_type: …</c>.</exception>
    public static CombinationType ParseCombinationType(string name) =>
        CombinationTypes.TryParse(name, out var type) ? type
            : throw new LoraMergeException(LoraMergeErrorKind.InvalidCombinationType, $"Invalid combination_type: {name}");

    /// <summary>Parses PEFT's <c>majority_sign_method</c> string (<c>total</c> or <c>frequency</c>).</summary>
    /// <exception cref="LoraMergeException">PEFT's <c>Unimplemented mask method "…"</c>.</exception>
    public static MajoritySignMethod ParseMajoritySignMethod(string name) =>
        MajoritySignMethods.TryParse(name, out var method) ? method
            : throw new LoraMergeException(LoraMergeErrorKind.InvalidMajoritySignMethod, $"Unimplemented mask method \"{name}\"");
}
