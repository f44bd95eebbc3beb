using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Compatibility;
using LoraSdk.Core;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>
    /// diffusers' <c>load_lora_adapter</c>: loads the modules of <paramref name="path"/> that belong to
    /// <paramref name="prefix"/> (a component name such as <c>unet</c>; null = keys without a component prefix, as
    /// <c>save_lora_adapter</c> writes them) into this component, or swaps them into an existing adapter
    /// (<paramref name="hotswap"/>). Everything is checked before anything changes; on error the model is untouched.
    /// </summary>
    /// <returns>What was loaded and what was left out.</returns>
    public LoraLoadResult LoadLoraAdapter(string path, string? prefix, string? adapterName = null, bool hotswap = false,
        LoraLoadOptions? options = null)
    {
        options ??= LoraLoadOptions.Default;
        using var source = LoraFileSource.Open(path, options);
        var (unmapped, skipped) = source.Check(options);
        var components = source.Components;
        string fileComponent = prefix ?? (components.Count == 1 ? components[0] : Name);
        var warnings = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var modules = source.ModulesFor(fileComponent);
        if (source.PeftConfig is not null)
        {
            warnings.AddRange(source.Model.Warnings.Select(w => $"{source.SourceName}: {w}"));
            modules = SelectPeftTargets(source, modules, warnings, adapterName);
        }
        if (modules.Count == 0)
        {
            warnings.Add($"No LoRA keys associated to {Name} found with the prefix {(prefix == null ? "null" : "'" + prefix + "'")}.");
        }
        else
        {
            using var prepared = Prepare(source.SourceName, modules, source.MetadataConfig(fileComponent), adapterName, hotswap);
            Commit(prepared);
            names[Name] = prepared.AdapterName;
            counts[Name] = prepared.Modules.Count;
        }
        var skippedComponents = components.Where(c => c != fileComponent).ToList();
        return new LoraLoadResult(source.SourceName, names, counts, unmapped, skipped, skippedComponents, warnings, hotswap);
    }

    /// <summary>
    /// Registers an in-memory adapter (e.g. a merge result) under <paramref name="adapterName"/> (null: diffusers'
    /// default name). Tensors are copied into the layers' dtype and device; the caller keeps its tensors. The new
    /// adapter becomes the active one, as after a load.
    /// </summary>
    /// <returns>The adapter name used.</returns>
    public string AddAdapter(string? adapterName, LoraAdapterDefinition definition)
    {
        if (definition == null) throw new ArgumentNullException(nameof(definition));
        using var prepared = Prepare("in-memory adapter", InputsOf(definition, readInPlace: false), definition.Config, adapterName, hotswap: false);
        Commit(prepared);
        return prepared.AdapterName;
    }

    /// <summary>
    /// The modules of an in-memory adapter as load inputs. Loaded tensors are owned copies in the layer's dtype and
    /// device; with <paramref name="readInPlace"/> (a hotswap, which only copies from them) a tensor already in that dtype
    /// and device is read where it is, so swapping device-resident weights costs one copy.
    /// </summary>
    private static List<LoraModuleInput> InputsOf(LoraAdapterDefinition definition, bool readInPlace)
    {
        Func<ScalarType, Device, Tensor> Loader(Tensor t) => (dtype, device) =>
            readInPlace && t.dtype == dtype && t.device.ToString() == device.ToString() && t.is_contiguous()
                ? t.alias().DetachFromDisposeScope()
                : LoraModuleInput.OwnedCopy(t, dtype, device);
        return definition.Modules.Select(m => new LoraModuleInput(m.ModulePath, m.ModulePath + ".lora_A.weight",
            m.ModulePath + ".lora_B.weight", null, m.A.shape, m.B.shape, m.Rank, m.Alpha,
            m.Alpha == Math.Floor(m.Alpha) && Math.Abs(m.Alpha) < 1e15, definition.UseRsLora, null, null,
            Loader(m.A), Loader(m.B),
            m.Magnitude is null ? null : m.ModulePath + ".lora_magnitude_vector", m.Magnitude?.shape,
            m.Magnitude is null ? null : Loader(m.Magnitude))).ToList();
    }

    /// <summary>The config of modules loaded without one (diffusers' <c>get_peft_kwargs</c> from their ranks and alphas).</summary>
    private LoraAdapterConfig DeriveConfig(IReadOnlyList<LoraModuleInput> modules) => LoraAdapterConfig.Derive(
        modules.Select(m => (m.Path, m.Rank, m.Alpha, m.AlphaIsInteger)).ToList(),
        modules.Any(m => m.UseRsLora), _moduleNames, Kind == LoraComponentKind.Denoiser);

    /// <summary>Checks a load completely and loads its tensors; changes nothing.</summary>
    internal LoraPreparedLoad Prepare(string sourceName, IReadOnlyList<LoraModuleInput> modules, LoraAdapterConfig? metadataConfig,
        string? adapterName, bool hotswap)
    {
        if (hotswap)
        {
            if (Kind == LoraComponentKind.TextEncoder)
            {
                throw LoraException.HotswapIntoTextEncoder(adapterName, sourceName, Name);
            }
            if (adapterName is null || !_registry.Contains(adapterName))
            {
                throw new LoraException(LoraErrorKind.HotswapUnknownAdapter,
                    $"Trying to hotswap LoRA adapter '{adapterName ?? "null"}' but there is no existing adapter by that name. " +
                    "Choose an existing adapter name, or load with hotswap: false.",
                    adapterName: adapterName, sourceName: sourceName, component: Name, diffusersMessage: DiffusersErrors.HotswapUnknownAdapter(adapterName));
            }
        }
        string name = adapterName ?? DefaultAdapterName();
        if (!hotswap && _registry.Contains(name))
        {
            throw new LoraException(LoraErrorKind.DuplicateAdapterName,
                $"Adapter name {name} already in use in the model - please select a new adapter name.",
                adapterName: name, sourceName: sourceName, component: Name);
        }
        // A hotswap copies into storage the graphs already read; a new adapter changes what they would have to run.
        CheckGraphChange(hotswap ? "Hotswap" : "Load", hotswap ? null : PlanChangeForNewAdapter(name));

        var config = metadataConfig ?? DeriveConfig(modules);
        var prepared = new LoraPreparedLoad(this, name, config, hotswap);
        try
        {
            if (hotswap) PrepareHotswap(prepared, sourceName, modules, _registry.Get(name, Name));
            else PrepareInjection(prepared, sourceName, modules);
            return prepared;
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
    }

    private void PrepareInjection(LoraPreparedLoad prepared, string sourceName, IReadOnlyList<LoraModuleInput> modules)
    {
        var seen = new HashSet<LayerSite>();
        var resolved = new List<(LoraModuleInput Input, LayerSite Slot)>();
        foreach (var input in modules)
        {
            var slot = ResolveSite(input.Path);
            if (slot is null)
            {
                throw new LoraException(LoraErrorKind.MissingModule,
                    $"{sourceName}: {Name} has no Linear or Conv2d module '{input.Path}' (keys {string.Join(", ", input.Keys)}).",
                    adapterName: prepared.AdapterName, modulePath: input.Path, sourceName: sourceName, component: Name);
            }
            if (!seen.Add(slot))
            {
                throw new LoraException(LoraErrorKind.MissingModule,
                    $"{sourceName}: two LoRA modules map to {Name} layer '{slot.Path}'.",
                    adapterName: prepared.AdapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
            }
            string? wrapProblem = slot.CheckWrappable();
            if (wrapProblem != null)
            {
                throw new LoraException(LoraErrorKind.UnsupportedLayer,
                    $"{sourceName}: {Name} layer '{slot.Path}' cannot carry LoRA: {wrapProblem}.",
                    adapterName: prepared.AdapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
            }
            if (input.IsLowRank) CheckShapes(sourceName, input, slot, prepared.AdapterName);
            else CheckVariantShapes(sourceName, input, slot, prepared.AdapterName);
            resolved.Add((input, slot));
        }
        if (_pendingHotswapRank is int target)
        {
            foreach (var (input, slot) in resolved)
            {
                if (!input.IsLowRank)
                {
                    throw new LoraException(LoraErrorKind.UnsupportedVariant,
                        $"{sourceName}: enable_lora_hotswap prepares plain LoRA adapters for hot swapping, but {Name} layer '{slot.Path}' " +
                        $"gets a {input.Variant} module. Load {input.Variant} adapters without enable_lora_hotswap.",
                        adapterName: prepared.AdapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
                }
                CheckPaddable(input.AShape![0], target, slot.Path);
            }
            foreach (var record in _registry.Records)
                foreach (var slot in record.Sites)
                    if (slot.Adapters!.GetAdapter(record.Name) is LowRankWeights loaded) CheckPaddable(loaded.TensorRank, target, slot.Path);
        }
        foreach (var (input, slot) in resolved)
        {
            var module = new LoraPreparedLoad.PreparedModule(slot, input.Path, input.Variant, input.Rank, input.Alpha,
                input.UseRsLora || prepared.Config.UseRsLora);
            prepared.Modules.Add(module);
            if (input.IsLowRank) (module.A, module.B, module.Magnitude) = LoadTensors(input, slot);
            else module.VariantTensors = LoadVariantTensors(input, slot);
        }
    }

    /// <summary>
    /// Validates a LoHa/LoKr module against the base layer of <paramref name="slot"/>: its tensors must compose to ΔW of
    /// the layer's weight shape — (out, in·kh·kw) for flat factors, exactly (out, in, kh, kw) for Tucker or 4-D ones.
    /// </summary>
    private void CheckVariantShapes(string sourceName, LoraModuleInput input, LayerSite slot, string adapterName)
    {
        var shapes = input.VariantTensors.ToDictionary(t => t.Role, t => t.Shape);
        string tensors = string.Join(", ", input.VariantTensors.Select(t => $"'{t.Key}' {Fmt(t.Shape)}"));
        var delta = LycorisWeights.DeltaShape(input.Variant, shapes)
            ?? throw ShapeError(sourceName, slot, adapterName, $"the {input.Variant} tensors {tensors} do not compose to a weight");
        long[] w = slot.WeightShape;
        long flatIn = 1;
        for (int i = 1; i < w.Length; i++) flatIn *= w[i];
        bool fits = delta.Length == 2 ? delta[0] == w[0] && delta[1] == flatIn : delta.SequenceEqual(w);
        if (!fits)
        {
            throw ShapeError(sourceName, slot, adapterName,
                $"the {input.Variant} tensors {tensors} compose to ΔW {Fmt(delta)}, which is not the layer's weight{(delta.Length == 2 && w.Length == 4 ? $" flattened to {Fmt(new[] { w[0], flatIn })}" : "")}");
        }
    }

    /// <summary>Loads a LoHa/LoKr module's tensors in the layer's dtype and device, as the file lays them out.</summary>
    private static Dictionary<LoraTensorRole, Tensor> LoadVariantTensors(LoraModuleInput input, LayerSite slot)
    {
        var loaded = new Dictionary<LoraTensorRole, Tensor>();
        try
        {
            foreach (var t in input.VariantTensors) loaded.Add(t.Role, t.Load(slot.WeightDType, slot.WeightDevice));
            return loaded;
        }
        catch
        {
            foreach (var t in loaded.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>PEFT's <c>prepare_model_for_compiled_hotswap</c>: each module's rank within the target rank (<see cref="HotswapCompatibility.CheckRank"/>).</summary>
    private static void CheckPaddable(long rank, int target, string path)
    {
        if (HotswapCompatibility.CheckRank(new HotswapModuleFacts(path, checked((int)rank), LoraVariants.Lora), target) is HotswapFinding f)
        {
            throw new LoraException(LoraErrorKind.HotswapRankTooLarge,
                $"Trying to pad the adapter to the target rank {f.SlotRank.ToString(CultureInfo.InvariantCulture)}, but the original rank is larger " +
                $"({f.Module!.Rank.ToString(CultureInfo.InvariantCulture)}). This is not possible.", modulePath: path);
        }
    }

    /// <summary>Validates the LoRA tensor shapes of <paramref name="input"/> against the base layer of <paramref name="slot"/>.</summary>
    private void CheckShapes(string sourceName, LoraModuleInput input, LayerSite slot, string adapterName)
    {
        bool conv = slot.IsConvolution;
        long[] w = slot.WeightShape;
        long outF = w[0], inF = w[1];
        bool oneByOne = !conv || (w[2] == 1 && w[3] == 1);
        string layerKind = conv ? "Conv2d" : "Linear";
        if (input.IsConvolution is bool declaredConv && declaredConv != conv && !oneByOne)
        {
            throw new LoraException(LoraErrorKind.LayerKindMismatch,
                $"{sourceName}: {Name} layer '{slot.Path}' is a {layerKind} layer but the LoRA tensors are for a {(declaredConv ? "Conv2d" : "Linear")} layer.",
                adapterName: adapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
        }
        var aShape = input.AShape!;
        var bShape = input.BShape!;
        long r = aShape.Length > 0 ? aShape[0] : -1;
        long[] expectedDown = conv ? new[] { r, inF, w[2], w[3] } : new[] { r, inF };
        long[] expectedUp = conv ? new[] { outF, r, 1, 1 } : new[] { outF, r };
        if (!ShapeFits(aShape, expectedDown))
        {
            throw ShapeError(sourceName, slot, adapterName, $"lora_A '{input.AKey}' has shape {Fmt(aShape)} but the layer needs {FmtExpected(expectedDown)}");
        }
        if (!ShapeFits(bShape, expectedUp))
        {
            throw ShapeError(sourceName, slot, adapterName, $"lora_B '{input.BKey}' has shape {Fmt(bShape)} but the layer needs {FmtExpected(expectedUp)}");
        }
        if (input.MagnitudeShape is { } m && Numel(m) != outF)
        {
            throw ShapeError(sourceName, slot, adapterName, $"lora_magnitude_vector '{input.MagnitudeKey}' has shape {Fmt(m)} but the layer has {outF.ToString(CultureInfo.InvariantCulture)} outputs");
        }
        if (input.Rank != r)
        {
            throw ShapeError(sourceName, slot, adapterName,
                $"lora_A '{input.AKey}' has rank {r.ToString(CultureInfo.InvariantCulture)} but the adapter config says r={input.Rank.ToString(CultureInfo.InvariantCulture)}");
        }
        if (conv && input.Stride is { Count: 2 } st && (st[0] != slot.Stride.H || st[1] != slot.Stride.W))
        {
            throw new LoraException(LoraErrorKind.LayerKindMismatch,
                $"{sourceName}: {Name} layer '{slot.Path}' has stride ({slot.Stride.H}, {slot.Stride.W}) but the LoRA down convolution has stride ({st[0]}, {st[1]}).",
                adapterName: adapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
        }
        if (conv && input.Padding is { Count: 2 } pd && (pd[0] != slot.Padding.H || pd[1] != slot.Padding.W))
        {
            throw new LoraException(LoraErrorKind.LayerKindMismatch,
                $"{sourceName}: {Name} layer '{slot.Path}' has padding ({slot.Padding.H}, {slot.Padding.W}) but the LoRA down convolution has padding ({pd[0]}, {pd[1]}).",
                adapterName: adapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);
        }
    }

    private LoraException ShapeError(string sourceName, LayerSite slot, string adapterName, string detail) =>
        new LoraException(LoraErrorKind.ShapeMismatch,
            $"{sourceName}: shape mismatch for {Name} layer '{slot.Path}' (base weight {Fmt(slot.WeightShape)}): {detail}.",
            adapterName: adapterName, modulePath: slot.Path, sourceName: sourceName, component: Name);

    /// <summary>Same shape, allowing a Linear LoRA stored as 1×1 convolution and vice versa.</summary>
    private static bool ShapeFits(long[] actual, long[] expected)
    {
        static long[] Squeeze(long[] s) => s.Length == 4 && s[2] == 1 && s[3] == 1 ? new[] { s[0], s[1] } : s;
        var a = Squeeze(actual);
        var e = Squeeze(expected);
        return a.Length == e.Length && a.Zip(e, (x, y) => x == y).All(b => b);
    }

    private static long Numel(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        return n;
    }

    private static string Fmt(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string FmtExpected(long[] shape) => "[" + string.Join(", ", shape.Select(d => d < 0 ? "r" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// Loads the module's tensors in the layer's dtype/device and layout (factors 2-D for Linear, 4-D for Conv2d; a DoRA
    /// magnitude (out) for Linear, (1, out, 1, 1) for Conv2d, as PEFT keeps it).
    /// </summary>
    private static (Tensor A, Tensor B, Tensor? Magnitude) LoadTensors(LoraModuleInput input, LayerSite slot)
    {
        var dtype = slot.WeightDType;
        var device = slot.WeightDevice;
        Tensor? a = null, b = null, magnitude = null;
        try
        {
            a = input.LoadA!(dtype, device);
            b = input.LoadB!(dtype, device);
            bool conv = slot.IsConvolution;
            a = Relayout(a, conv);
            b = Relayout(b, conv);
            if (input.LoadMagnitude is not null)
            {
                magnitude = input.LoadMagnitude(dtype, device);
                var shaped = (conv ? magnitude.reshape(1, -1, 1, 1) : magnitude.reshape(-1)).contiguous().DetachFromDisposeScope();
                if (!ReferenceEquals(shaped, magnitude)) magnitude.Dispose();
                magnitude = shaped;
            }
            return (a, b, magnitude);
        }
        catch
        {
            a?.Dispose();
            b?.Dispose();
            magnitude?.Dispose();
            throw;
        }
    }

    private static Tensor Relayout(Tensor t, bool conv)
    {
        if (conv && t.dim() == 2)
        {
            var r = t.reshape(t.shape[0], t.shape[1], 1, 1).contiguous().DetachFromDisposeScope();
            if (!ReferenceEquals(r, t)) t.Dispose();
            return r;
        }
        if (!conv && t.dim() == 4)
        {
            var r = t.reshape(t.shape[0], t.shape[1]).contiguous().DetachFromDisposeScope();
            if (!ReferenceEquals(r, t)) t.Dispose();
            return r;
        }
        return t;
    }

    /// <summary>Applies a prepared load. Cannot fail: every check happened in <see cref="Prepare"/>.</summary>
    internal void Commit(LoraPreparedLoad prepared)
    {
        if (prepared.Committed) throw new InvalidOperationException("already committed");
        if (prepared.Hotswap)
        {
            CheckGraphChange("Hotswap", null);
            CommitHotswap(prepared);
            prepared.Committed = true;
            RefreshGraph();
            return;
        }
        GateGraphChange("Load", PlanChangeForNewAdapter(prepared.AdapterName));
        var slots = new List<LayerSite>(prepared.Modules.Count);
        var sourcePaths = new Dictionary<LayerSite, string>();
        foreach (var m in prepared.Modules)
        {
            var slot = m.Slot;
            if (slot.IsPlain && slot.Layer is null)
            {
                slot.EnsureWrapped();
                slot.Adapters!.Adopt(this, _forward, slot.Path);
            }
            AdapterWeights weights = m.VariantTensors is not null
                ? LycorisWeights.Create(m.Variant, prepared.AdapterName, m.VariantTensors, m.Rank, m.Alpha)
                : m.Magnitude is null
                    ? new LowRankWeights(prepared.AdapterName, m.A!, m.B!, m.Rank, m.Alpha, m.UseRsLora)
                    : new DoraWeights(prepared.AdapterName, m.A!, m.B!, m.Magnitude, m.Rank, m.Alpha, m.UseRsLora);
            slot.Adapters!.AddAdapter(weights);
            slots.Add(slot);
            sourcePaths[slot] = m.SourcePath;
        }
        prepared.Committed = true;
        slots.Sort((a, b) => a.Order.CompareTo(b.Order));
        var record = new LoraAdapterRecord(prepared.AdapterName, prepared.Config, slots, sourcePaths);
        _registry.Add(record);
        _active.Set(new[] { record.Name });
        if (_pendingHotswapRank is int target)
        {
            PadForHotswap(target);
            _pendingHotswapRank = null;
        }
    }
}
