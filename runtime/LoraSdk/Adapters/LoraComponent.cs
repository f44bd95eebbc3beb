using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// One LoRA-capable model (a UNet, a text encoder, any TorchSharp module tree) with diffusers' model-level LoRA API
/// (<c>PeftAdapterMixin</c>): load/save adapters, set_adapters with weights, fuse/unfuse, enable/disable, delete,
/// unload, hotswap, runtime scale. The module tree is indexed once at construction: every <see cref="LoraLinear"/>,
/// <see cref="LoraConv2d"/> (and, if enabled, plain <c>nn.Linear</c>/<c>nn.Conv2d</c>) by its module path, and every
/// loaded adapter by the layers that hold it, so no operation that runs per denoising step walks the module tree.
/// Every operation validates completely before it changes anything. Not thread-safe. State has one owner each: the
/// loaded adapters (<see cref="AdapterRegistry"/>), which are active (<see cref="ActiveAdapterSet"/>), and per layer its
/// adapters, fused weights and forward caches (<see cref="LayerAdapters"/>).
/// </summary>
public sealed partial class LoraComponent
{
    private readonly List<LayerSite> _sites = new List<LayerSite>();
    private readonly Dictionary<string, LayerSite> _byPath = new Dictionary<string, LayerSite>(StringComparer.Ordinal);
    private readonly List<string> _moduleNames = new List<string>();
    private readonly List<string> _stateDictKeys = new List<string>();
    private readonly AdapterRegistry _registry = new AdapterRegistry();
    private readonly ComponentForwardState _forward = new ComponentForwardState();
    private readonly ActiveAdapterSet _active;
    private int? _pendingHotswapRank;

    /// <summary>Indexes <paramref name="module"/> and makes it a LoRA component named <paramref name="name"/>.</summary>
    /// <param name="name">The component name (<c>unet</c>, <c>text_encoder</c>, ...): the key prefix of pipeline files.</param>
    /// <param name="module">The model.</param>
    /// <param name="options">Role, UNet block layout, plain-layer wrapping, path mapping.</param>
    public LoraComponent(string name, nn.Module module, LoraComponentOptions? options = null)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Module = module ?? throw new ArgumentNullException(nameof(module));
        Options = options ?? new LoraComponentOptions();
        _active = new ActiveAdapterSet(_forward);

        var modulesByPath = new Dictionary<string, nn.Module>(StringComparer.Ordinal) { [""] = module };
        int order = 0;
        foreach (var (path, m) in module.named_modules())
        {
            if (path.Length == 0) continue;
            modulesByPath[path] = m;
            _moduleNames.Add(path);
            if (m is LoraLayer layer)
            {
                var site = LayerSite.ForLayer(path, order++, layer);
                site.Adapters!.Adopt(this, _forward, path);
                Add(site);
            }
            else if (Options.WrapPlainLayers && (m is Linear || m is Conv2d))
            {
                int dot = path.LastIndexOf('.');
                var parent = modulesByPath[dot < 0 ? "" : path.Substring(0, dot)];
                Add(LayerSite.ForPlain(path, order++, m, parent, dot < 0 ? path : path.Substring(dot + 1)));
            }
        }
        foreach (var (key, _) in module.named_parameters()) _stateDictKeys.Add(key);
        foreach (var (key, _) in module.named_buffers()) _stateDictKeys.Add(key);

        void Add(LayerSite site)
        {
            _sites.Add(site);
            _byPath[site.Path] = site;
        }
    }

    /// <summary>The component name.</summary>
    public string Name { get; }

    /// <summary>The model.</summary>
    public nn.Module Module { get; }

    /// <summary>The options.</summary>
    public LoraComponentOptions Options { get; }

    /// <summary>The component's role.</summary>
    public LoraComponentKind Kind => Options.Kind;

    /// <summary>Module paths of every LoRA-capable layer, in module order.</summary>
    public IReadOnlyList<string> LayerPaths => _sites.Select(s => s.Path).ToList();

    /// <summary>
    /// How active, unfused adapters run in the forward pass (default <see cref="LoraForwardMode.Unfused"/>). Changing it
    /// takes effect at each layer's next forward call. While the component is pinned for CUDA graphs
    /// (<see cref="PinForGraphs"/>) another mode is refused, or releases a Release pin.
    /// </summary>
    public LoraForwardMode ForwardMode
    {
        get => _forward.Mode;
        set
        {
            GateGraphChange("ForwardMode", PlanChangeForMode(value));
            _forward.Mode = value;
        }
    }

    /// <summary>For <see cref="LoraForwardMode.Auto"/>: forward calls with an unchanged configuration before a layer folds (default 2).</summary>
    public int AutoMaterializeAfter
    {
        get => _forward.AutoMaterializeAfter;
        set => _forward.AutoMaterializeAfter = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>The runtime scale currently applied (1.0 outside <see cref="ApplyRuntimeScale"/>).</summary>
    public double RuntimeScale => _forward.RuntimeScale;

    /// <summary>The LoRA layer at <paramref name="modulePath"/>, or null (no such layer, or a plain layer not wrapped yet).</summary>
    public LoraLayer? GetLayer(string modulePath) => _byPath.TryGetValue(modulePath, out var s) ? s.Layer : null;

    /// <summary>diffusers' <c>peft_config.keys()</c>: adapter names in load order.</summary>
    public IReadOnlyList<string> ListAdapters() => _registry.Names;

    /// <summary>True when the component holds adapter <paramref name="adapterName"/>.</summary>
    public bool HasAdapter(string adapterName) => _registry.Contains(adapterName);

    /// <summary>The PEFT config of adapter <paramref name="adapterName"/>.</summary>
    public LoraAdapterConfig GetAdapterConfig(string adapterName) => Record(adapterName).Config;

    /// <summary>Module paths of the layers holding adapter <paramref name="adapterName"/>, in module order.</summary>
    public IReadOnlyList<string> GetAdapterModulePaths(string adapterName) => Record(adapterName).Sites.Select(s => s.Path).ToList();

    /// <summary>
    /// PEFT's <c>active_adapters</c> of the first injected layer (what diffusers' <c>get_active_adapters</c> reports);
    /// empty when no layer was injected.
    /// </summary>
    public IReadOnlyList<string> GetActiveAdapters()
    {
        var first = FirstInjected();
        return first is null ? Array.Empty<string>() : first.Adapters!.ActiveAdapters.ToList();
    }

    /// <summary>True when some layer holds (or held, until unload) an adapter: PEFT's "the model has tuner layers".</summary>
    public bool HasInjectedLayers => FirstInjected() is not null;

    /// <summary>Adapters fused into any layer (PEFT's <c>merged_adapters</c>, union in layer order).</summary>
    public IReadOnlyList<string> GetMergedAdapters()
    {
        var result = new List<string>();
        foreach (var s in _sites)
        {
            var adapters = s.Adapters;
            if (adapters is null) continue;
            foreach (var m in adapters.MergedAdapters) if (!result.Contains(m)) result.Add(m);
        }
        return result;
    }

    /// <summary>
    /// PEFT's <c>module.scaling</c> of every injected layer: module path → adapter → scaling (weight × alpha / r),
    /// in module order and load order.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<KeyValuePair<string, double>>>> GetScalings()
    {
        var result = new List<KeyValuePair<string, IReadOnlyList<KeyValuePair<string, double>>>>();
        foreach (var s in _sites)
        {
            var adapters = s.Adapters;
            if (adapters is null || !adapters.IsInjected) continue;
            var list = adapters.All.Select(w => new KeyValuePair<string, double>(w.AdapterName, w.Scaling)).ToList();
            result.Add(new KeyValuePair<string, IReadOnlyList<KeyValuePair<string, double>>>(s.Path, list));
        }
        return result;
    }

    /// <summary>
    /// The live weights of adapter <paramref name="adapterName"/> per layer, in module order (the read side of the
    /// merge seam; see <c>Adapters/README-merge-seam.md</c>). Do not dispose or modify the tensors.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, AdapterWeights>> GetAdapterWeights(string adapterName) =>
        Record(adapterName).Sites.Select(s => new KeyValuePair<string, AdapterWeights>(s.Path, s.Adapters!.GetAdapter(adapterName))).ToList();

    /// <summary>
    /// Undoes the materialized forward mode's folds so every weight holds its base (or fused) value, e.g. before
    /// saving the model's state dict. Folds happen again at the next forward call.
    /// </summary>
    public void Dematerialize()
    {
        GateGraphChange("Dematerialize", PlanChangeForDematerialize());
        foreach (var s in _sites) s.Adapters?.Dematerialize();
    }

    internal ComponentForwardState ForwardState => _forward;

    internal IReadOnlyList<LayerSite> Sites => _sites;

    private LoraAdapterRecord Record(string adapterName) => _registry.Get(adapterName, Name);

    private LayerSite? FirstInjected()
    {
        foreach (var s in _sites)
            if (s.Adapters is { IsInjected: true }) return s;
        return null;
    }

    /// <summary>diffusers' <c>get_adapter_name</c>: <c>default_{number of adapters of the first injected layer}</c>.</summary>
    public string DefaultAdapterName()
    {
        var first = FirstInjected();
        int n = first is null ? 0 : first.Adapters!.AdapterNames.Count;
        return "default_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private LayerSite? ResolveSite(string sourcePath)
    {
        string path = Options.ModulePathMap?.Invoke(sourcePath) ?? sourcePath;
        return _byPath.TryGetValue(path, out var s) ? s : null;
    }
}
