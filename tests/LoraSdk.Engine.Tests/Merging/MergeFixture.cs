using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;
using LoraSdk.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// The reference fixtures of the PEFT merge goldens: the UNet parts of lora_a / lora_b / lora_d (factors, rank, alpha,
/// init_lora_weights from the file's <c>lora_adapter_metadata</c>), goldens.json → merges, and the golden tensors.
/// Shared by the merge tests (xUnit class fixture); disposes every tensor it loaded.
/// </summary>
public sealed class MergeFixture : IDisposable
{
    private readonly SafetensorsFile _goldens;
    private readonly List<Tensor> _owned = new List<Tensor>();

    public MergeFixture()
    {
        Root = RepoRoot();
        Fixtures = Path.Combine(Root, "tests", "fixtures");
        Goldens = JsonValue.Parse(File.ReadAllText(Path.Combine(Fixtures, "goldens.json")));
        _goldens = SafetensorsFile.Open(Path.Combine(Fixtures, "goldens.safetensors"));
        // SafetensorsFile caches its file map on first use; create it here, outside every test's dispose scope
        // (older SafetensorsFile versions let the first caller's scope dispose the shared map).
        _owned.Add(_goldens.Load(_goldens.Header.Tensors.First(t => t.DType == SafetensorsDType.F32).Name));
        Adapters = new Dictionary<string, FixtureAdapter>(StringComparer.Ordinal);
        foreach (var tag in new[] { "a", "b", "d" }) Adapters[tag] = LoadAdapter(tag);
        // PEFT's named_modules order of the UNet, taken from the injected-module lists (dicts keep insertion order).
        var order = new List<string>();
        foreach (var tag in new[] { "lora_a", "lora_b" })
        {
            foreach (var p in Goldens["injected_modules"]![tag]!["unet"]!["modules"]!.Properties) order.Add(p.Key);
        }
        ModuleOrderA = Goldens["injected_modules"]!["lora_a"]!["unet"]!["modules"]!.Properties.Select(p => p.Key).ToList();
        UnionOrderAB = order.Distinct(StringComparer.Ordinal).ToList();
    }

    public string Root { get; }

    public string Fixtures { get; }

    internal JsonValue Goldens { get; }

    internal JsonValue Merges => Goldens["merges"]!["results"]!;

    /// <summary>UNet adapters of lora_a ("a"), lora_b ("b"), lora_d ("d").</summary>
    public Dictionary<string, FixtureAdapter> Adapters { get; }

    /// <summary>The 96 modules of lora_a's UNet part in PEFT's module order (lora_d targets the same).</summary>
    public IReadOnlyList<string> ModuleOrderA { get; }

    /// <summary>lora_a ∪ lora_b modules (156).</summary>
    public IReadOnlyList<string> UnionOrderAB { get; }

    /// <summary>A golden tensor (owned by the fixture).</summary>
    public Tensor Golden(string key)
    {
        var t = _goldens.Load(key);
        _owned.Add(t);
        return t;
    }

    public bool HasGolden(string key) => _goldens.Header.TryGetTensor(key, out _);

    /// <summary>Merge sources for the given tags and weights.</summary>
    public List<LoraMergeSource> Sources(string[] tags, double[] weights) =>
        tags.Select((t, i) => new LoraMergeSource(t, Adapters[t].Rank, weights[i], Adapters[t].UseRsLora)).ToList();

    /// <summary>Merge layers over <paramref name="modules"/> for the given tags (null factors where a tag lacks a module).</summary>
    public List<LoraMergeLayer> Layers(string[] tags, IReadOnlyList<string> modules) =>
        modules.Select(m => new LoraMergeLayer(m, tags.Select(t => Adapters[t].Factors.TryGetValue(m, out var f) ? f : null).ToList()))
            .ToList();

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        foreach (var a in Adapters.Values)
        {
            foreach (var f in a.Factors.Values)
            {
                f.A.Dispose();
                f.B.Dispose();
            }
        }
        _goldens.Dispose();
    }

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "LoraSdk.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    }

    private FixtureAdapter LoadAdapter(string tag)
    {
        string path = Path.Combine(Fixtures, "loras", $"lora_{tag}.safetensors");
        // The formats core maps keys and resolves rank / alpha / rsLoRA per module (from lora_adapter_metadata).
        var model = LoraFileModel.Read(path);
        var unet = model.Components[LoraComponents.Unet];
        using var file = SafetensorsFile.Open(path);
        var meta = JsonValue.Parse(file.Header.Metadata["lora_adapter_metadata"]);
        int rank = (int)meta["unet.r"]!.AsInt64();
        double alpha = meta["unet.lora_alpha"]!.AsDouble();
        bool rs = meta["unet.use_rslora"]?.AsBool() ?? false;
        var init = meta["unet.init_lora_weights"];
        var initialization = MergedAdapterInitializations.FromInitLoraWeights(
            init == null ? null : init.Kind == JsonValueKind.String ? init.AsString() : (object)init.AsBool());
        var factors = new Dictionary<string, LoraLayerFactors>(StringComparer.Ordinal);
        foreach (var (module, spec) in unet)
        {
            factors[module] = new LoraLayerFactors(file.Load(spec.AKey!), file.Load(spec.BKey!), spec.Scaling);
        }
        return new FixtureAdapter(tag, rank, alpha, rs, initialization, factors);
    }
}

/// <summary>One fixture adapter's UNet part.</summary>
public sealed record FixtureAdapter(string Tag, int Rank, double Alpha, bool UseRsLora, MergedAdapterInitialization Initialization,
    Dictionary<string, LoraLayerFactors> Factors);
