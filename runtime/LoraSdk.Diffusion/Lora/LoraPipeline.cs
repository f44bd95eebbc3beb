using System;
using System.Collections.Generic;
using LoraSdk.Adapters;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Lora;

/// <summary>
/// A diffusers pipeline with its LoRA API, as diffusers' <c>LoraLoaderMixin</c> pipelines have it: <c>pipe.LoadLoraWeights</c>,
/// <c>pipe.SetAdapters</c>, <c>pipe.FuseLora</c>, … (<see cref="ILoraPipeline"/>), plus <see cref="Lora"/> for the
/// engine's full API (per-component and block weights, runtime scale, hotswap options, merges). The engine's
/// <see cref="LoraAdapterManager"/> over the pipeline's LoRA-capable components is created on first use — once, so
/// every call sees the same adapters — and installs itself as the pipeline's runtime-scale hook.
/// </summary>
public abstract class LoraPipeline : ILoraPipeline
{
    private LoraAdapterManager? _lora;

    /// <summary>The engine behind this pipeline's LoRA API (created on first use, then always the same).</summary>
    public LoraAdapterManager Lora
    {
        get
        {
            if (_lora is null)
            {
                var manager = CreateLoraManager();
                InstallScaleHook(new ManagerScaleHook(manager));
                _lora = manager;
            }
            return _lora;
        }
    }

    /// <summary>True once <see cref="Lora"/> was created (no adapter can be loaded before).</summary>
    public bool HasLora => _lora is not null;

    /// <summary>The manager over this pipeline's components, in diffusers' <c>_lora_loadable_modules</c> order.</summary>
    private protected abstract LoraAdapterManager CreateLoraManager();

    /// <summary>Makes <paramref name="hook"/> the runtime-scale seam of the denoiser and the prompt encoding.</summary>
    private protected abstract void InstallScaleHook(ILoraScaleHook hook);

    /// <inheritdoc />
    public string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? weightName = null, string? prefix = null) =>
        Lora.LoadLoraWeights(path, adapterName, hotswap, weightName, prefix);

    /// <summary>
    /// PEFT's <c>PeftModel.from_pretrained(component, path, subfolder=…, adapter_name=…)</c> on one of this pipeline's
    /// models (<paramref name="component"/>, default the denoiser): loads the PEFT adapter folder
    /// <paramref name="path"/>[/<paramref name="subfolder"/>] under <paramref name="adapterName"/> (PEFT's "default" when
    /// null), honouring its <c>adapter_config.json</c>; the adapter becomes the active one (see
    /// <see cref="LoraAdapterManager.LoadPeftAdapter"/>).
    /// </summary>
    public LoraLoadResult LoadPeftAdapter(string path, string? subfolder = null, string? adapterName = null, string? component = null) =>
        Lora.LoadPeftAdapter(path, subfolder, adapterName, component);

    /// <summary>
    /// PEFT's <c>save_pretrained</c> of adapter <paramref name="adapterName"/> of one model (default the denoiser): a
    /// PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>; "default" at the root, other
    /// adapters in a subfolder named after them) that PEFT and <see cref="LoadPeftAdapter"/> load.
    /// </summary>
    /// <returns>The adapter folder written.</returns>
    public string SavePeftAdapter(string saveDirectory, string adapterName, string? component = null) =>
        Lora.SavePeftAdapter(saveDirectory, adapterName, component);

    /// <inheritdoc />
    public void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null) => Lora.SetAdapters(adapterNames, weights);

    /// <summary>
    /// The components <see cref="FuseLora"/> fuses: diffusers' default <c>components</c> argument of the pipeline's
    /// <c>fuse_lora</c> (SDXL: every LoRA component; Flux: <c>["transformer"]</c>); null means every component.
    /// </summary>
    private protected virtual IReadOnlyList<string>? FuseComponents => null;

    /// <inheritdoc />
    public void FuseLora(IReadOnlyList<string>? adapterNames = null, double loraScale = 1.0, bool safeFusing = false) =>
        Lora.FuseLora(FuseComponents, loraScale, safeFusing, adapterNames);

    /// <inheritdoc />
    public void UnfuseLora() => Lora.UnfuseLora();

    /// <inheritdoc />
    public void EnableLoraHotswap(int targetRank) => Lora.EnableLoraHotswap(targetRank);

    /// <inheritdoc />
    public void DeleteAdapters(IReadOnlyList<string> adapterNames) => Lora.DeleteAdapters(adapterNames);

    /// <inheritdoc />
    public void DisableLora() => Lora.DisableLora();

    /// <inheritdoc />
    public void EnableLora() => Lora.EnableLora();

    /// <inheritdoc />
    public void UnloadLoraWeights()
    {
        if (_lora is not null) _lora.UnloadLoraWeights();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> GetActiveAdapters() => _lora is null ? Array.Empty<string>() : _lora.GetActiveAdapters();

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters() =>
        _lora is null ? new Dictionary<string, IReadOnlyList<string>>() : _lora.GetListAdapters();

    /// <inheritdoc />
    public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName, LoraMergeOptions options) =>
        Lora.AddWeightedAdapter(adapters, weights, adapterName, options);

    /// <inheritdoc />
    public string SaveLoraWeights(string saveDirectory, string adapterName, string? weightName = null) =>
        Lora.SaveLoraWeights(saveDirectory, adapterName, weightName);

    private sealed class ManagerScaleHook : ILoraScaleHook
    {
        private readonly LoraAdapterManager _manager;

        public ManagerScaleHook(LoraAdapterManager manager) => _manager = manager;

        public IDisposable Scale(nn.Module component, double scale) => _manager.ApplyRuntimeScale(component, scale);
    }
}
