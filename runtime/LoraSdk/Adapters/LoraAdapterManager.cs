using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Compatibility;
using LoraSdk.Core;
using LoraSdk.IO;
using LoraSdk.Layers;
using LoraSdk.Merging;

using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// diffusers' pipeline-level LoRA API (<c>StableDiffusionXLLoraLoaderMixin</c> / <c>LoraBaseMixin</c>) over named
/// components (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>, or any set of <see cref="LoraComponent"/>s):
/// implements <see cref="ILoraPipeline"/> and the richer API (per-component and block-scale weights, runtime scale,
/// hotswap, save, set_lora_device). Every operation checks all components before it changes any of them.
/// A pipeline owns one manager and delegates to it; see <c>docs/engine.md</c>.
/// </summary>
public sealed class LoraAdapterManager : ILoraPipeline
{
    private readonly List<LoraComponent> _components;

    /// <summary>Creates a manager over <paramref name="components"/> (their order is diffusers' <c>_lora_loadable_modules</c> order).</summary>
    public LoraAdapterManager(IEnumerable<LoraComponent> components, LoraLoadOptions? loadOptions = null)
    {
        _components = (components ?? throw new ArgumentNullException(nameof(components))).ToList();
        var duplicate = _components.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"component '{duplicate.Key}' is given twice", nameof(components));
        LoadOptions = loadOptions ?? LoraLoadOptions.Default;
    }

    /// <summary>The components, in order.</summary>
    public IReadOnlyList<LoraComponent> Components => _components;

    /// <summary>Options for every load (UNet layout for kohya names, strictness, expected architecture).</summary>
    public LoraLoadOptions LoadOptions { get; set; }

    /// <summary>Receives warnings diffusers would log (unmapped keys, ignored weights, skipped components).</summary>
    public event Action<string>? Warning;

    /// <summary>The result of the last successful load.</summary>
    public LoraLoadResult? LastLoadResult { get; private set; }

    /// <summary>The component named <paramref name="name"/>.</summary>
    public LoraComponent this[string name] => TryGetComponent(name, out var c) ? c
        : throw new LoraException(LoraErrorKind.UnknownComponent, $"{name} is not a LoRA component of this pipeline (components: {string.Join(", ", _components.Select(x => x.Name))}).",
            component: name, diffusersMessage: DiffusersErrors.UnknownComponent(name, PythonList(_components.Select(x => x.Name))));

    /// <summary>Looks a component up by name.</summary>
    public bool TryGetComponent(string name, out LoraComponent component)
    {
        component = _components.FirstOrDefault(c => c.Name == name)!;
        return component != null;
    }

    // ------------------------------------------------------------------ load / save

    /// <inheritdoc />
    public string LoadLoraWeights(string path, string? adapterName = null, bool hotswap = false, string? weightName = null, string? prefix = null)
    {
        var result = LoadLoraWeightsWithResult(path, adapterName, hotswap, weightName, prefix);
        return result.AdapterNames.Values.FirstOrDefault() ?? adapterName ?? "default_0";
    }

    /// <summary>
    /// diffusers' <c>load_lora_weights</c> with a report: loads every component the file has modules for (only
    /// <paramref name="prefix"/> when given). All components are validated and their tensors read before the first one
    /// changes; a failure anywhere leaves every component bit-identical. Text-encoder parts refuse <paramref name="hotswap"/>
    /// with diffusers' message, before the UNet part is swapped.
    /// </summary>
    public LoraLoadResult LoadLoraWeightsWithResult(string path, string? adapterName = null, bool hotswap = false, string? weightName = null,
        string? prefix = null)
    {
        var options = LoadOptions;
        using var source = LoraFileSource.Open(path, options, weightName);
        var (unmapped, skipped) = source.Check(options);
        var fileComponents = source.Components.Where(c => prefix == null || c == prefix).ToList();
        // What the formats core noticed while reading the file (metadata that contradicts the tensors, malformed
        // metadata, ...) reaches the caller with the load's own warnings.
        var warnings = source.Model.Warnings.Select(w => $"{source.SourceName}: {w}").ToList();
        if (unmapped.Count > 0)
            warnings.Add($"{source.SourceName}: {unmapped.Count} key(s) map to no module and were not loaded: {string.Join(", ", unmapped.Take(20))}{(unmapped.Count > 20 ? ", ..." : "")}");
        if (skipped.Count > 0)
            warnings.Add($"{source.SourceName}: skipped {skipped.Count} key(s) of unsupported LoRA variants: {string.Join(", ", skipped.Take(20))}{(skipped.Count > 20 ? ", ..." : "")}");
        if (source.Model.Ignored.Count > 0)
            warnings.Add($"{source.SourceName}: {source.Model.Ignored.Count} key(s) were not loaded because diffusers drops them: " +
                         $"{string.Join("; ", source.Model.Ignored.Take(5).Select(i => i.Key + " (" + i.Reason + ")"))}{(source.Model.Ignored.Count > 5 ? "; ..." : "")}");
        var skippedComponents = fileComponents.Where(c => !TryGetComponent(c, out _)).ToList();
        foreach (var c in skippedComponents) warnings.Add($"{source.SourceName}: the file has LoRA modules for '{c}', which this pipeline does not have; they were not loaded.");

        if (hotswap && fileComponents.Any(c => TryGetComponent(c, out var comp) && comp.Kind == LoraComponentKind.TextEncoder))
        {
            throw LoraException.HotswapIntoTextEncoder(adapterName, source.SourceName);
        }

        var prepared = new List<LoraPreparedLoad>();
        try
        {
            foreach (var component in _components)
            {
                if (!fileComponents.Contains(component.Name)) continue;
                var modules = source.ModulesFor(component.Name);
                if (source.PeftConfig is not null) modules = component.SelectPeftTargets(source, modules, warnings, adapterName);
                if (modules.Count == 0) continue;
                prepared.Add(component.Prepare(source.SourceName, modules, source.MetadataConfig(component.Name), adapterName, hotswap));
            }
            if (prepared.Count == 0)
            {
                // diffusers' check (FluxLoraLoaderMixin.load_lora_weights): a state dict without any 'lora' key.
                if (source.Model.ModuleCount == 0 && !source.Model.Header.Tensors.Any(t => t.Name.Contains("lora", StringComparison.Ordinal)))
                {
                    throw new LoraException(LoraErrorKind.NothingToLoad,
                        "Invalid LoRA checkpoint. Make sure all LoRA param names contain `'lora'` substring.", sourceName: source.SourceName);
                }
                int mapped = source.Model.ModuleCount;
                throw new LoraException(LoraErrorKind.NothingToLoad,
                    $"{source.SourceName}: nothing to load: {(mapped == 0 ? "no key maps to a LoRA module" : "no module belongs to a component of this pipeline")}" +
                    $"{(prefix != null ? $" with prefix '{prefix}'" : "")} (components here: {string.Join(", ", _components.Select(c => c.Name))}; " +
                    $"unmapped keys: {unmapped.Count}).", sourceName: source.SourceName);
            }
            foreach (var p in prepared) p.Component.Commit(p);
        }
        finally
        {
            foreach (var p in prepared) p.Dispose();
        }
        var names = prepared.ToDictionary(p => p.Component.Name, p => p.AdapterName);
        var counts = prepared.ToDictionary(p => p.Component.Name, p => p.Modules.Count);
        var result = new LoraLoadResult(source.SourceName, names, counts, unmapped, skipped, skippedComponents, warnings, hotswap);
        LastLoadResult = result;
        foreach (var w in warnings) Warning?.Invoke(w);
        return result;
    }

    /// <summary>
    /// diffusers' <c>save_lora_weights</c> for adapter <paramref name="adapterName"/> of every component that holds it:
    /// keys <c>&lt;component&gt;.&lt;module&gt;.lora_A.weight</c>, metadata <c>lora_adapter_metadata</c> with each component's
    /// PEFT config under <c>&lt;component&gt;.</c> keys (as diffusers writes it).
    /// </summary>
    /// <returns>The path written.</returns>
    public string SaveLoraWeights(string saveDirectory, string adapterName, string? weightName = null) =>
        SaveLoraWeights(saveDirectory, adapterName, weightName, upcastBeforeSaving: false);

    /// <summary>
    /// <see cref="SaveLoraWeights(string, string, string?)"/>, optionally writing float32 tensors
    /// (diffusers' <c>upcast_before_saving</c>).
    /// </summary>
    public string SaveLoraWeights(string saveDirectory, string adapterName, string? weightName, bool upcastBeforeSaving)
    {
        var holders = _components.Where(c => c.HasAdapter(adapterName)).ToList();
        if (holders.Count == 0)
            throw new LoraException(LoraErrorKind.AdapterNotFound, $"Adapter name {adapterName} not found in the model.", adapterName: adapterName);
        if (File.Exists(saveDirectory))
            throw new ArgumentException($"Provided path ({saveDirectory}) should be a directory, not a file", nameof(saveDirectory));
        Directory.CreateDirectory(saveDirectory);
        string path = Path.Combine(saveDirectory, weightName ?? LoraComponent.DefaultWeightName);
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        var metadata = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var c in holders)
        {
            tensors.AddRange(c.StateDict(adapterName, c.Name, upcastBeforeSaving));
            foreach (var kv in c.SavedConfig(adapterName).ToDict()) metadata[c.Name + "." + kv.Key] = kv.Value;
        }
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [LoraAdapterConfig.MetadataKey] = PythonJsonWriter.Dumps(metadata),
        });
        return path;
    }

    /// <summary>
    /// PEFT's <c>PeftModel.from_pretrained(component, path, subfolder=…, adapter_name=…)</c> on one component of this
    /// pipeline (<paramref name="component"/>; default: the denoiser): loads the PEFT adapter folder
    /// <paramref name="path"/>[/<paramref name="subfolder"/>] under <paramref name="adapterName"/> (PEFT's "default"
    /// when null), honouring its <c>adapter_config.json</c> (see <see cref="LoraComponent.LoadPeftAdapter"/>). The
    /// adapter becomes the component's active one, as after <see cref="LoadLoraWeights"/>.
    /// </summary>
    public LoraLoadResult LoadPeftAdapter(string path, string? subfolder = null, string? adapterName = null, string? component = null)
    {
        var target = component is null ? DefaultPeftComponent() : this[component];
        var result = target.LoadPeftAdapter(path, subfolder, adapterName, LoadOptions);
        LastLoadResult = result;
        foreach (var w in result.Warnings) Warning?.Invoke(w);
        return result;
    }

    /// <summary>
    /// PEFT's <c>save_pretrained(saveDirectory, selected_adapters=[adapterName])</c> of adapter <paramref name="adapterName"/>
    /// of one component (default: the denoiser): a PEFT adapter folder (see <see cref="LoraComponent.SavePeftAdapter"/>).
    /// </summary>
    /// <returns>The adapter folder written.</returns>
    public string SavePeftAdapter(string saveDirectory, string adapterName, string? component = null, bool upcastBeforeSaving = false) =>
        (component is null ? DefaultPeftComponent() : this[component]).SavePeftAdapter(saveDirectory, adapterName, upcastBeforeSaving);

    /// <summary>
    /// PEFT's <c>save_pretrained(saveDirectory, selected_adapters)</c> of one component (default: the denoiser): every
    /// adapter of <paramref name="adapterNames"/> (default: all) in PEFT's layout.
    /// </summary>
    /// <returns>The adapter folders written.</returns>
    public IReadOnlyList<string> SavePeftAdapters(string saveDirectory, IReadOnlyList<string>? adapterNames = null, string? component = null,
        bool upcastBeforeSaving = false) =>
        (component is null ? DefaultPeftComponent() : this[component]).SavePeftAdapters(saveDirectory, adapterNames, upcastBeforeSaving);

    private LoraComponent DefaultPeftComponent() =>
        _components.FirstOrDefault(c => c.Kind == LoraComponentKind.Denoiser) ?? _components.FirstOrDefault()
            ?? throw new LoraException(LoraErrorKind.UnknownComponent, "this pipeline has no LoRA component.");

    // ------------------------------------------------------------------ set_adapters

    /// <inheritdoc />
    public void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null) =>
        SetAdapterWeights(adapterNames, weights?.Select(w => (AdapterWeight?)AdapterWeight.Of(w)).ToList());

    /// <summary>
    /// diffusers' <c>set_adapters(adapter_names, adapter_weights)</c> with one weight per adapter: a number, None
    /// (1.0), a per-component dict (<c>{"unet": …, "text_encoder": …}</c>; components it leaves out get 1.0) whose
    /// UNet entry may be a block dict. Validates names and every weight of every component before changing any.
    /// </summary>
    public void SetAdapterWeights(IReadOnlyList<string> adapterNames, IReadOnlyList<AdapterWeight?>? weights)
    {
        if (adapterNames == null) throw new ArgumentNullException(nameof(adapterNames));
        var list = weights ?? adapterNames.Select(_ => (AdapterWeight?)null).ToList();
        SetAdaptersCore(adapterNames, list);
    }

    /// <summary>
    /// diffusers' <c>set_adapters(adapter_names, adapter_weights)</c> with one weight for all adapters (Python passes a
    /// non-list); a top-level dict loses keys that are not components (diffusers warns and drops them).
    /// </summary>
    public void SetAdapterWeights(IReadOnlyList<string> adapterNames, AdapterWeight weightForAll)
    {
        if (adapterNames == null) throw new ArgumentNullException(nameof(adapterNames));
        var weight = weightForAll ?? AdapterWeight.None;
        if (weight.Kind == AdapterWeightKind.Dict)
        {
            var invalid = weight.Entries.Select(e => e.Key).Where(k => !TryGetComponent(k, out _)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (invalid.Count > 0)
            {
                Warning?.Invoke($"The following components in `adapter_weights` are not part of the pipeline: {PythonList(invalid)}. " +
                    $"Available components that are LoRA-compatible: {PythonList(_components.Select(c => c.Name))}. So, weights belonging " +
                    "to the invalid components will be removed and ignored.");
                foreach (var k in invalid) weight = weight.Without(k);
            }
        }
        SetAdaptersCore(adapterNames, adapterNames.Select(_ => (AdapterWeight?)weight).ToList());
    }

    /// <summary>diffusers' <c>set_adapters("name", weight)</c>.</summary>
    public void SetAdapters(string adapterName, AdapterWeight? weight = null) => SetAdapterWeights(new[] { adapterName }, weight ?? AdapterWeight.None);

    private void SetAdaptersCore(IReadOnlyList<string> adapterNames, IReadOnlyList<AdapterWeight?> weights)
    {
        if (adapterNames.Count != weights.Count)
        {
            throw new LoraException(LoraErrorKind.WeightsLengthMismatch,
                $"Length of adapter names {AdapterWeight.Count(adapterNames.Count)} is not equal to the length of the weights {AdapterWeight.Count(weights.Count)}");
        }
        var listAdapters = GetListAdapters();
        var all = new HashSet<string>(listAdapters.Values.SelectMany(v => v), StringComparer.Ordinal);
        var missing = adapterNames.Where(n => !all.Contains(n)).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new LoraException(LoraErrorKind.UnknownAdapter,
                $"Adapter name(s) {PythonRepr.StringSet(missing)} not in the list of present adapters: {PythonRepr.StringSet(all)}.",
                adapterName: missing[0]);
        }

        // Decompose per component and expand (all validation), then apply.
        var plan = new List<(LoraComponent Component, IReadOnlyList<LoraModuleWeightRule> Rules)>();
        foreach (var component in _components)
        {
            var componentWeights = new List<AdapterWeight?>(weights.Count);
            for (int i = 0; i < adapterNames.Count; i++)
            {
                var w = weights[i];
                if (w is { Kind: AdapterWeightKind.Dict })
                {
                    var part = w.TryGet(component.Name, out var v) ? v : AdapterWeight.None;
                    if (part.Kind != AdapterWeightKind.None && !component.HasAdapter(adapterNames[i]))
                    {
                        Warning?.Invoke($"Lora weight dict for adapter '{adapterNames[i]}' contains {component.Name},but this will be ignored because " +
                            $"{adapterNames[i]} does not contain weights for {component.Name}.Valid parts for {adapterNames[i]} are: " +
                            $"{PythonList(_components.Where(c => c.HasAdapter(adapterNames[i])).Select(c => c.Name))}.");
                    }
                    componentWeights.Add(part);
                }
                else
                {
                    componentWeights.Add(w);
                }
            }
            plan.Add((component, component.ExpandWeights(componentWeights)));
        }
        GateAll(_components, "SetAdapters", c => c.PlanChangeForActivation(adapterNames));
        foreach (var (component, rules) in plan) component.ApplyWeights(adapterNames, rules);
    }

    // ------------------------------------------------------------------ runtime scale

    /// <summary>
    /// The runtime-scale seam: multiplies the active adapters' scalings of <paramref name="component"/> by
    /// <paramref name="scale"/> until the scope is disposed (diffusers' <c>cross_attention_kwargs["scale"]</c> for
    /// <c>unet</c>, <c>lora_scale</c> of <c>encode_prompt</c> for the text encoders). Use with <c>using</c> around one call.
    /// </summary>
    public IDisposable ApplyRuntimeScale(string component, double scale) => this[component].ApplyRuntimeScale(scale);

    /// <summary>
    /// <see cref="ApplyRuntimeScale(string, double)"/> for the component whose model is <paramref name="module"/> (the
    /// shape of the host's <c>ILoraScaleHook.Scale(module, scale)</c>); a module that is no component changes nothing.
    /// </summary>
    public IDisposable ApplyRuntimeScale(nn.Module module, double scale)
    {
        var component = _components.FirstOrDefault(c => ReferenceEquals(c.Module, module));
        return component is null ? RuntimeScaleScope.Empty : component.ApplyRuntimeScale(scale);
    }

    /// <summary><see cref="ApplyRuntimeScale(string, double)"/> for several components at once (all restored together).</summary>
    public IDisposable ApplyRuntimeScale(double scale, params string[] components)
    {
        var scopes = new List<IDisposable>();
        try
        {
            foreach (var c in components) scopes.Add(this[c].ApplyRuntimeScale(scale));
        }
        catch
        {
            for (int i = scopes.Count - 1; i >= 0; i--) scopes[i].Dispose();
            throw;
        }
        return new CompositeScope(scopes);
    }

    private sealed class CompositeScope : IDisposable
    {
        private readonly List<IDisposable> _scopes;

        public CompositeScope(List<IDisposable> scopes) => _scopes = scopes;

        public void Dispose()
        {
            for (int i = _scopes.Count - 1; i >= 0; i--) _scopes[i].Dispose();
            _scopes.Clear();
        }
    }

    // ------------------------------------------------------------------ fuse

    /// <inheritdoc />
    public void FuseLora(IReadOnlyList<string>? adapterNames = null, double loraScale = 1.0, bool safeFusing = false) =>
        FuseLora(null, loraScale, safeFusing, adapterNames);

    /// <summary>
    /// diffusers' <c>fuse_lora(components, lora_scale, safe_fusing, adapter_names)</c> (default: every component). With
    /// <paramref name="safeFusing"/>, NaN/Inf anywhere rolls every component back. Unfuse restores bit-exactly.
    /// </summary>
    public void FuseLora(IReadOnlyList<string>? components, double loraScale, bool safeFusing, IReadOnlyList<string>? adapterNames)
    {
        var targets = SelectComponents(components);
        CheckAll(targets, "FuseLora", c => c.PlanChangeForFuse());
        using var transaction = new LoraFuseTransaction();
        try
        {
            foreach (var c in targets) c.FuseInto(transaction, loraScale, safeFusing, adapterNames);
        }
        catch
        {
            transaction.Rollback();
            throw;
        }
    }

    /// <inheritdoc />
    public void UnfuseLora() => UnfuseLora(null);

    /// <summary>diffusers' <c>unfuse_lora(components)</c>.</summary>
    public void UnfuseLora(IReadOnlyList<string>? components)
    {
        var targets = SelectComponents(components);
        CheckAll(targets, "UnfuseLora", c => c.PlanChangeForUnfuse());
        foreach (var c in targets) c.UnfuseLora();
    }

    /// <summary>diffusers' <c>fused_loras</c>: adapters currently fused into some component.</summary>
    public IReadOnlyList<string> FusedLoras
    {
        get
        {
            var result = new List<string>();
            foreach (var c in _components) foreach (var n in c.GetMergedAdapters()) if (!result.Contains(n)) result.Add(n);
            return result;
        }
    }

    /// <summary>diffusers' <c>num_fused_loras</c>.</summary>
    public int NumFusedLoras => FusedLoras.Count;

    private List<LoraComponent> SelectComponents(IReadOnlyList<string>? components)
    {
        if (components == null) return _components.ToList();
        if (components.Count == 0) throw new LoraException(LoraErrorKind.UnknownComponent, "`components` cannot be an empty list.");
        return components.Select(n => this[n]).ToList();
    }

    // ------------------------------------------------------------------ management

    /// <inheritdoc />
    public void EnableLoraHotswap(int targetRank) => EnableLoraHotswap(targetRank, HotswapCompileCheck.Error);

    /// <summary>diffusers' <c>enable_lora_hotswap(target_rank, check_compiled)</c> on every denoiser component.</summary>
    public void EnableLoraHotswap(int targetRank, HotswapCompileCheck checkCompiled)
    {
        var denoisers = _components.Where(c => c.Kind != LoraComponentKind.TextEncoder).ToList();
        if (checkCompiled == HotswapCompileCheck.Error && denoisers.Any(c => c.ListAdapters().Count > 0))
            throw new LoraException(LoraErrorKind.HotswapAfterLoad, "Call EnableLoraHotswap before loading the first adapter.",
                diffusersMessage: DiffusersErrors.HotswapAfterLoad);
        foreach (var c in denoisers)
        {
            string? warning = c.EnableLoraHotswap(targetRank, checkCompiled);
            if (warning != null) Warning?.Invoke(warning);
        }
    }

    /// <inheritdoc />
    public void DeleteAdapters(IReadOnlyList<string> adapterNames)
    {
        CheckAll(_components, "DeleteAdapters", c => c.PlanChangeForRemoval(adapterNames, "deletes"));
        foreach (var c in _components) c.DeleteAdapters(adapterNames);
    }

    /// <inheritdoc />
    public void DisableLora()
    {
        CheckAll(_components, "DisableLora", c => c.PlanChangeForDisable());
        foreach (var c in _components) c.DisableLora();
    }

    /// <inheritdoc />
    public void EnableLora()
    {
        CheckAll(_components, "EnableLora", _ => null);
        foreach (var c in _components) c.EnableLora();
    }

    /// <inheritdoc />
    public void UnloadLoraWeights()
    {
        CheckAll(_components, "UnloadLoraWeights", c => c.PlanChangeForUnload());
        foreach (var c in _components) c.UnloadLora();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> GetActiveAdapters()
    {
        IReadOnlyList<string> active = Array.Empty<string>();
        foreach (var c in _components)
        {
            if (c.Kind != LoraComponentKind.Denoiser) continue;
            if (c.HasInjectedLayers) active = c.GetActiveAdapters();
        }
        return active;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<string>> GetListAdapters()
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var c in _components)
        {
            var list = c.ListAdapters();
            if (list.Count > 0) result[c.Name] = list;
        }
        return result;
    }

    /// <summary>diffusers' <c>set_lora_device</c>: moves the named adapters of every component to <paramref name="device"/>.</summary>
    public void SetLoraDevice(IReadOnlyList<string> adapterNames, Device device)
    {
        CheckAll(_components, "SetLoraDevice", c => c.PlanChangeForRemoval(adapterNames, "moves"));
        foreach (var c in _components) c.SetLoraDevice(adapterNames, device);
    }

    /// <summary>The forward mode of every component (see <see cref="LoraForwardMode"/>).</summary>
    public LoraForwardMode ForwardMode
    {
        set
        {
            CheckAll(_components, "ForwardMode", c => c.PlanChangeForMode(value));
            foreach (var c in _components) c.ForwardMode = value;
        }
    }

    // ------------------------------------------------------------------ CUDA graphs

    /// <summary>
    /// Pins components for CUDA graphs (see <see cref="LoraComponent.PinForGraphs"/>) — by default every denoiser (the
    /// UNet / transformer a graph captures) — so that graphs captured afterwards replay hotswaps, <c>SetAdapters</c>
    /// weights within the pinned adapters, runtime scales and scale schedules without recapture. All components are
    /// checked before any is pinned.
    /// </summary>
    /// <param name="components">Component names (default: the denoisers, or every component when there is none).</param>
    /// <param name="adapterNames">The adapters the graphs will run (default: each component's active ones); each component pins those it holds.</param>
    /// <param name="policy">What a change that would alter the captured graphs does.</param>
    /// <returns>One pin over all of them.</returns>
    public LoraGraphPin PinForGraphs(IReadOnlyList<string>? components = null, IReadOnlyList<string>? adapterNames = null,
        LoraGraphPinPolicy policy = LoraGraphPinPolicy.Refuse)
    {
        LoraComponent.CheckPolicy(policy);
        var targets = components is null
            ? (_components.Any(c => c.Kind == LoraComponentKind.Denoiser) ? _components.Where(c => c.Kind == LoraComponentKind.Denoiser).ToList() : _components.ToList())
            : SelectComponents(components);
        if (adapterNames is not null)
        {
            var unknown = adapterNames.Where(n => !_components.Any(c => c.HasAdapter(n))).ToList();
            if (unknown.Count > 0)
            {
                throw new LoraException(LoraErrorKind.UnknownAdapter,
                    $"Adapter name(s) {PythonRepr.StringSet(unknown)} not in the list of present adapters: {PythonRepr.StringSet(GetListAdapters().Values.SelectMany(v => v).Distinct())}.",
                    adapterName: unknown[0]);
            }
        }
        var names = targets.Select(c => c.ValidateGraphPin(adapterNames?.Where(c.HasAdapter).ToList())).ToList();
        var pin = new LoraGraphPin(policy);
        try
        {
            for (int i = 0; i < targets.Count; i++) targets[i].AttachPin(pin, names[i]);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
        return pin;
    }

    /// <summary>Phase one of a change over several components: every one checks (capture, Refuse pins) before any changes.</summary>
    private static void CheckAll(IEnumerable<LoraComponent> components, string operation, Func<LoraComponent, string?> planChange)
    {
        foreach (var c in components) c.CheckGraphChange(operation, planChange(c));
    }

    /// <summary><see cref="CheckAll"/>, then releases the Release pins the change invalidates.</summary>
    private static void GateAll(IReadOnlyList<LoraComponent> components, string operation, Func<LoraComponent, string?> planChange)
    {
        var changes = components.Select(planChange).ToList();
        for (int i = 0; i < components.Count; i++) components[i].CheckGraphChange(operation, changes[i]);
        for (int i = 0; i < components.Count; i++) components[i].ReleaseGraphPins(operation, changes[i]);
    }

    /// <inheritdoc />
    public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName, LoraMergeOptions options)
    {
        var denoiser = _components.FirstOrDefault(c => c.Kind == LoraComponentKind.Denoiser) ?? _components.First();
        denoiser.AddWeightedAdapter(adapters, weights, adapterName, options ?? throw new ArgumentNullException(nameof(options)));
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(PythonRepr.String)) + "]";
}
