using System.Collections.Generic;

namespace LoraSdk.Typed;

/// <summary>
/// The string-keyed LoRA API of a pipeline-like container, with Diffusers' semantics. The runtime engine implements
/// it (see runtime/LoraSdk); the generated typed API is sugar over it, so dynamic code can always fall back to names.
/// </summary>
public interface ILoraPipeline
{
    /// <summary>Diffusers' <c>load_lora_weights</c>: loads a LoRA file into every component it has keys for.</summary>
    /// <param name="path">A <c>.safetensors</c> file (pickle formats are refused).</param>
    /// <param name="adapterName">Adapter name; <c>null</c> gives <c>default_0</c>, <c>default_1</c>, … like diffusers.</param>
    /// <param name="hotswap">Swap the weights of the existing adapter <paramref name="adapterName"/> in place.</param>
    /// <param name="prefix">Component prefix filter like <c>load_lora_adapter(prefix=…)</c>; <c>null</c> = all.</param>
    /// <returns>The adapter name used.</returns>
    string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? prefix = null);

    /// <summary>Diffusers' <c>set_adapters(names, weights)</c> with one scalar weight per adapter (null = 1.0 each).</summary>
    void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null);

    /// <summary>Diffusers' <c>fuse_lora</c>.</summary>
    void FuseLora(IReadOnlyList<string>? adapterNames = null, double loraScale = 1.0, bool safeFusing = false);

    /// <summary>Diffusers' <c>unfuse_lora</c>; restores the original weights bit-exactly.</summary>
    void UnfuseLora();

    /// <summary>Diffusers' <c>enable_lora_hotswap(target_rank)</c>; must precede the first load.</summary>
    void EnableLoraHotswap(int targetRank);

    /// <summary>Diffusers' <c>delete_adapters</c>.</summary>
    void DeleteAdapters(IReadOnlyList<string> adapterNames);

    /// <summary>Diffusers' <c>disable_lora</c>.</summary>
    void DisableLora();

    /// <summary>Diffusers' <c>enable_lora</c>.</summary>
    void EnableLora();

    /// <summary>Diffusers' <c>unload_lora_weights</c>: removes every adapter and restores the original layers.</summary>
    void UnloadLoraWeights();

    /// <summary>Diffusers' <c>get_active_adapters</c>.</summary>
    IReadOnlyList<string> GetActiveAdapters();

    /// <summary>Diffusers' <c>get_list_adapters</c>: component name → adapter names.</summary>
    IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters();

    /// <summary>
    /// PEFT's <c>add_weighted_adapter</c> on the UNet: builds a new adapter <paramref name="adapterName"/> from
    /// <paramref name="adapters"/>. <paramref name="combinationType"/> is PEFT's string (<c>linear</c>, <c>cat</c>,
    /// <c>svd</c>, <c>ties</c>, <c>ties_svd</c>, <c>dare_linear</c>, <c>dare_ties</c>, <c>dare_linear_svd</c>,
    /// <c>dare_ties_svd</c>, <c>magnitude_prune</c>, <c>magnitude_prune_svd</c>).
    /// </summary>
    void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName,
        string combinationType = "svd", int? svdRank = null, double? svdClamp = null, bool svdFullMatrices = true,
        double? density = null, string majoritySignMethod = "total", long? seed = null);
}
