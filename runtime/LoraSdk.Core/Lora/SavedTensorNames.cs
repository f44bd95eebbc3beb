namespace LoraSdk.Core;

/// <summary>
/// The key suffix (after <c>&lt;component&gt;.&lt;module path&gt;.</c>) under which a saved adapter tensor of each role
/// is written — diffusers' / PEFT's names for LoRA and DoRA (<c>lora_A.weight</c>, <c>lora_B.weight</c>,
/// <c>lora_magnitude_vector</c>), LyCORIS' for LoHa/LoKr (<c>hada_w1_a</c>, …, <c>alpha</c>). The one table the engine's
/// save uses; the key canonicalizer reads all of them back.
/// </summary>
internal static class SavedTensorNames
{
    /// <summary>The suffix for <paramref name="role"/>, or null for roles that are never saved (LoCon mid, B bias, …).</summary>
    public static string? For(LoraTensorRole role) => role switch
    {
        LoraTensorRole.A => "lora_A.weight",
        LoraTensorRole.B => "lora_B.weight",
        LoraTensorRole.Magnitude => "lora_magnitude_vector",
        LoraTensorRole.Alpha => "alpha",
        _ => LycorisTensorNames.SuffixOf(role),
    };
}
