using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// The LoRA API of a pipeline (the <c>LoraLoaderMixin</c> methods of a diffusers pipeline), with diffusers' and PEFT's
/// semantics: adapters are addressed by name, and every operation either completes or changes nothing (it throws a
/// <see cref="LoraSdkException"/>). The engine implements it (<c>LoraAdapterManager</c>), the diffusion pipelines
/// expose it, and the generated typed API (<c>LoraSdk.Typed</c>) is sugar over it, so dynamic code can always fall back
/// to names.
/// </summary>
public interface ILoraPipeline
{
    /// <summary>
    /// diffusers' <c>load_lora_weights</c>: loads a LoRA into every component it has modules for and makes it the only
    /// active adapter. <paramref name="path"/> is a <c>.safetensors</c> file, a folder holding exactly one (or the one
    /// named <paramref name="weightName"/>), or a PEFT adapter folder (<c>adapter_config.json</c> +
    /// <c>adapter_model.safetensors</c>). Pickle formats are refused.
    /// </summary>
    /// <param name="path">The file or folder.</param>
    /// <param name="adapterName">Adapter name; null gives <c>default_0</c>, <c>default_1</c>, … like diffusers.</param>
    /// <param name="hotswap">Swap the weights of the existing adapter <paramref name="adapterName"/> in place.</param>
    /// <param name="weightName">The file inside the folder <paramref name="path"/> (diffusers' <c>weight_name</c>).</param>
    /// <param name="prefix">Load only this component's modules (diffusers' <c>prefix</c>); null = every component.</param>
    /// <returns>The adapter name used.</returns>
    string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? weightName = null, string? prefix = null);

    /// <summary>diffusers' <c>set_adapters(names, weights)</c> with one scalar weight per adapter (null = 1.0 each).</summary>
    void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null);

    /// <summary>diffusers' <c>fuse_lora</c>: folds the adapters (default: the active ones) into the base weights.</summary>
    void FuseLora(IReadOnlyList<string>? adapterNames = null, double loraScale = 1.0, bool safeFusing = false);

    /// <summary>diffusers' <c>unfuse_lora</c>; restores the weights from before the fuse bit for bit.</summary>
    void UnfuseLora();

    /// <summary>diffusers' <c>enable_lora_hotswap(target_rank)</c>; must precede the first load.</summary>
    void EnableLoraHotswap(int targetRank);

    /// <summary>diffusers' <c>delete_adapters</c>.</summary>
    void DeleteAdapters(IReadOnlyList<string> adapterNames);

    /// <summary>diffusers' <c>disable_lora</c>.</summary>
    void DisableLora();

    /// <summary>diffusers' <c>enable_lora</c>.</summary>
    void EnableLora();

    /// <summary>diffusers' <c>unload_lora_weights</c>: removes every adapter and restores the original layers.</summary>
    void UnloadLoraWeights();

    /// <summary>diffusers' <c>get_active_adapters</c>.</summary>
    IReadOnlyList<string> GetActiveAdapters();

    /// <summary>diffusers' <c>get_list_adapters</c>: component name → adapter names.</summary>
    IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters();

    /// <summary>
    /// PEFT's <c>add_weighted_adapter</c> on the denoiser (UNet or transformer): builds adapter
    /// <paramref name="adapterName"/> from <paramref name="adapters"/> weighted by <paramref name="weights"/>, as
    /// <paramref name="options"/> says (combination type, density, SVD rank, seed).
    /// </summary>
    void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName, LoraMergeOptions options);

    /// <summary>
    /// diffusers' <c>save_lora_weights</c>: writes adapter <paramref name="adapterName"/> of every component that holds
    /// it as a diffusers-format LoRA file in <paramref name="saveDirectory"/>, at its real rank and alpha.
    /// </summary>
    /// <returns>The path written.</returns>
    string SaveLoraWeights(string saveDirectory, string adapterName, string? weightName = null);
}
