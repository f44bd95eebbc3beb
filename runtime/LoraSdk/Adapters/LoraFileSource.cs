using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// A LoRA file opened for loading: the formats core's <see cref="LoraFileModel"/> (key mapping, ranks, alphas) plus
/// the tensor reader. Checks the file as a whole (invalid modules, unsupported variants, architecture, unmapped keys)
/// and turns each component's modules into <see cref="LoraModuleInput"/>s. Reads only headers until asked for tensors.
/// </summary>
internal sealed class LoraFileSource : IDisposable
{
    private readonly SafetensorsFile _file;
    private readonly IReadOnlyDictionary<string, LoraAdapterConfig> _configs;

    private LoraFileSource(string path, LoraFileModel model, SafetensorsFile file, IReadOnlyDictionary<string, LoraAdapterConfig> configs,
        string? peftConfigPath)
    {
        SourceName = path;
        Model = model;
        _file = file;
        _configs = configs;
        PeftConfigPath = peftConfigPath;
    }

    public string SourceName { get; }

    public LoraFileModel Model { get; }

    /// <summary>The <c>adapter_config.json</c> when the source is a PEFT adapter folder (its config then decides targets, ranks and alphas), else null.</summary>
    public string? PeftConfigPath { get; }

    /// <summary>The PEFT adapter folder's config (see <see cref="PeftConfigPath"/>), else null.</summary>
    public LoraAdapterConfig? PeftConfig => PeftConfigPath is null ? null : _configs[""];

    /// <summary>
    /// Opens <paramref name="path"/> — a LoRA file, a folder holding one (or <paramref name="weightName"/>), or a PEFT
    /// adapter folder — reading only its header (pickle formats are refused). A PEFT folder's config is checked
    /// against <see cref="PeftConfigPolicy"/> first: fields the SDK does not implement are refused.
    /// </summary>
    public static LoraFileSource Open(string path, LoraLoadOptions options, string? weightName = null)
    {
        var (filePath, peftConfigPath) = LoraSourceLocator.Resolve(path, weightName);
        return OpenResolved(filePath, peftConfigPath, options);
    }

    /// <summary>Opens the PEFT adapter folder <paramref name="path"/>[/<paramref name="subfolder"/>] (PEFT's <c>from_pretrained(…, subfolder=…)</c>).</summary>
    public static LoraFileSource OpenPeftFolder(string path, string? subfolder, LoraLoadOptions options)
    {
        var (weights, config) = LoraSourceLocator.ResolvePeftFolder(path, subfolder);
        return OpenResolved(weights, config, options);
    }

    private static LoraFileSource OpenResolved(string filePath, string? peftConfigPath, LoraLoadOptions options)
    {
        var warnings = new List<string>();
        LoraAdapterConfig? peftConfig = null;
        if (peftConfigPath is not null)
        {
            peftConfig = LoraAdapterConfig.FromJson(File.ReadAllText(peftConfigPath), peftConfigPath, warnings);
            var findings = PeftConfigPolicy.Check(peftConfig);
            var refused = findings.Where(f => f.IsRefusal).ToList();
            if (refused.Count > 0)
            {
                throw new LoraException(LoraErrorKind.UnsupportedConfig,
                    $"{peftConfigPath}: {string.Join("; ", refused.Select(f => f.Message))}.", sourceName: peftConfigPath);
            }
            foreach (var f in findings) warnings.Add($"{Path.GetFileName(peftConfigPath)}: {f.Message}");
        }
        var file = SafetensorsFile.Open(filePath);
        try
        {
            var model = LoraFileModel.FromHeader(file.Header, info => file.ReadScalar(info.Name), options.FileModelOptions, peftConfig, warnings);
            var configs = peftConfig is not null
                ? new Dictionary<string, LoraAdapterConfig>(StringComparer.Ordinal) { [""] = peftConfig }
                : LoraAdapterConfig.FromSafetensorsMetadata(model.Header.Metadata, new List<string>()); // warnings already in the model
            return new LoraFileSource(filePath, model, file, configs, peftConfigPath);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Components that have at least one module, in canonical order.</summary>
    public IReadOnlyList<string> Components =>
        LoraComponents.All.Where(c => Model.Components.TryGetValue(c, out var m) && m.Count > 0)
            .Concat(Model.Components.Keys.Where(c => !LoraComponents.All.Contains(c) && Model.Components[c].Count > 0))
            .ToList();

    /// <summary>
    /// Whole-file checks that come before any change: inconsistent modules, unsupported variants (unless skipped),
    /// architecture, unmapped keys (when strict). Returns the unmapped keys and the skipped unsupported keys.
    /// </summary>
    public (IReadOnlyList<string> Unmapped, IReadOnlyList<string> SkippedUnsupported) Check(LoraLoadOptions options)
    {
        if (Model.InvalidModules.Count > 0)
        {
            var first = Model.InvalidModules[0];
            throw new LoraException(LoraErrorKind.ShapeMismatch,
                $"{SourceName}: {Model.InvalidModules.Count} inconsistent LoRA module(s); first: {first.Component}.{first.ModulePath}: {first.Reason} (keys {string.Join(", ", first.Keys)})",
                modulePath: first.ModulePath, sourceName: SourceName, component: first.Component);
        }
        var refused = LoraVariantPolicy.Refused(Model);
        var skipped = refused.SelectMany(u => u.Keys).ToList();
        if (skipped.Count > 0 && !options.SkipUnsupportedVariants)
        {
            throw new LoraException(LoraErrorKind.UnsupportedVariant,
                $"{SourceName}: the file uses LoRA variant(s) this SDK does not apply ({string.Join(", ", refused.Select(u => u.Variant).Distinct())}); " +
                $"{skipped.Count} key(s), first: {skipped[0]}. Pass SkipUnsupportedVariants to load the rest.",
                sourceName: SourceName);
        }
        string? architecture = Model.DeclaredArchitecture ?? Model.ImpliedArchitecture;
        if (options.ExpectedArchitecture != null && architecture != null
            && !string.Equals(architecture, options.ExpectedArchitecture, StringComparison.OrdinalIgnoreCase))
        {
            throw new LoraException(LoraErrorKind.ArchitectureMismatch,
                $"{SourceName}: the LoRA is for '{architecture}' ({(Model.DeclaredArchitecture != null ? "declared in its metadata" : "implied by its layers")}) but the model is '{options.ExpectedArchitecture}'.",
                sourceName: SourceName);
        }
        if (Model.Unmapped.Count > 0 && options.ThrowOnUnmappedKeys)
        {
            throw new LoraException(LoraErrorKind.UnmappedKeys,
                $"{SourceName}: {Model.Unmapped.Count} key(s) map to no module: {string.Join(", ", Model.Unmapped.Take(20))}{(Model.Unmapped.Count > 20 ? ", ..." : "")}",
                sourceName: SourceName);
        }
        return (Model.Unmapped, skipped);
    }

    /// <summary>
    /// The supported modules of <paramref name="component"/>, in file key order. Converted modules (kohya / XLabs / BFL
    /// Flux layouts, <see cref="LoraModuleSpec.Conversion"/>) read their file tensors through the conversion; a kohya
    /// fused layer whose B (lora_up) is block-diagonal is split by rank as diffusers splits it (that reads its B here).
    /// </summary>
    public List<LoraModuleInput> ModulesFor(string component)
    {
        var result = new List<LoraModuleInput>();
        if (!Model.Components.TryGetValue(component, out var modules)) return result;
        var metadata = MetadataConfig(component);
        var blockDiagonal = BlockDiagonalLayers(modules.Values);
        foreach (var m in modules.Values.OrderBy(FirstWeightKey, StringComparer.Ordinal))
        {
            if (!LoraVariantPolicy.IsApplied(m.Variant)) continue;
            if (m.Conversion is { } conversion)
            {
                result.Add(ConvertedInput(m, conversion, blockDiagonal.Contains(m.BKey!)));
                continue;
            }
            bool alphaInt = m.AlphaSource switch
            {
                LoraAlphaSource.Metadata => metadata?.LoraAlphaIsInteger ?? true,
                LoraAlphaSource.MetadataPattern => m.Alpha == Math.Floor(m.Alpha),
                LoraAlphaSource.Tensor or LoraAlphaSource.TensorDefault => AlphaTensorIsInteger(m, modules.Values),
                _ => true,
            };
            if (m.AKey is null || m.BKey is null || m.AShape is null || m.BShape is null)
            {
                // LoHa / LoKr: every tensor but the alpha scalar, by role.
                var tensors = m.Tensors.Where(t => t.Key != LoraTensorRole.Alpha)
                    .Select(t =>
                    {
                        string key = t.Value.Name;
                        return new LoraVariantTensorInput(t.Key, key, (long[])t.Value.Shape.Clone(), (dtype, device) => Load(key, dtype, device));
                    })
                    .ToList();
                result.Add(new LoraModuleInput(m.ModulePath, m.Variant, m.Rank, m.Alpha, alphaInt, tensors));
                continue;
            }
            string aKey = m.AKey, bKey = m.BKey;
            string? magnitudeKey = m.MagnitudeKey;
            result.Add(new LoraModuleInput(m.ModulePath, aKey, bKey, m.Kind == LoraLayerKind.Conv2d,
                m.AShape.ToArray(), m.BShape.ToArray(), m.Rank, m.Alpha, alphaInt, m.UseRsLora, m.Stride, m.Padding,
                (dtype, device) => Load(aKey, dtype, device), (dtype, device) => Load(bKey, dtype, device),
                magnitudeKey, magnitudeKey is null ? null : Model.Header.TryGetTensor(magnitudeKey, out var info) ? info.Shape : null,
                magnitudeKey is null ? null : (dtype, device) => Load(magnitudeKey, dtype, device)));
        }
        return result;
    }

    /// <summary>The B keys of kohya fused layers whose (scaled) B is block-diagonal.</summary>
    private HashSet<string> BlockDiagonalLayers(IEnumerable<LoraModuleSpec> modules)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in modules.Where(m => m.Conversion is { BlockDiagonalCandidate: true }).GroupBy(m => m.BKey!, StringComparer.Ordinal))
        {
            var parts = layer.Select(m => m.Conversion!).OrderBy(c => c.SplitIndex).ToList();
            if (parts.Count != parts[0].SplitCount) continue;
            using var b = LoadRaw(layer.Key);
            using var scope = torch.NewDisposeScope();
            var scaled = parts[0].BScale == 1.0 ? b : b.mul((float)parts[0].BScale);
            if (LoraModuleConversionTensors.IsBlockDiagonal(scaled, parts, layer.First().Rank)) result.Add(layer.Key);
        }
        return result;
    }

    private LoraModuleInput ConvertedInput(LoraModuleSpec m, LoraModuleConversion c, bool blockDiagonal)
    {
        string aKey = m.AKey!, bKey = m.BKey!;
        int rank = m.Rank;
        if (blockDiagonal)
        {
            int part = rank / c.SplitCount;
            // diffusers chunks A (lora_down) by rank and keeps each part's own columns of B (lora_up): rank (and alpha) r / n.
            return new LoraModuleInput(m.ModulePath, aKey, bKey, false, new long[] { part, m.InFeatures }, new long[] { m.OutFeatures, part },
                part, part, true, m.UseRsLora, null, null,
                (dtype, device) => LoadConverted(aKey, dtype, device, t => LoraModuleConversionTensors.BlockA(t, c, rank)),
                (dtype, device) => LoadConverted(bKey, dtype, device, t => LoraModuleConversionTensors.BlockB(t, c, rank)));
        }
        return new LoraModuleInput(m.ModulePath, aKey, bKey, false, m.AShape!.ToArray(), m.BShape!.ToArray(), m.Rank, m.Alpha,
            m.Alpha == Math.Floor(m.Alpha), m.UseRsLora, null, null,
            (dtype, device) => LoadConverted(aKey, dtype, device, t => LoraModuleConversionTensors.A(t, c)),
            (dtype, device) => LoadConverted(bKey, dtype, device, t => LoraModuleConversionTensors.B(t, c)));
    }

    /// <summary>Reads <paramref name="key"/> in the file's dtype, transforms it there, then copies it into <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    private Tensor LoadConverted(string key, ScalarType dtype, Device device, Func<Tensor, Tensor> transform)
    {
        using var raw = LoadRaw(key);
        using var scope = torch.NewDisposeScope();
        var converted = transform(raw);
        return LoraModuleInput.OwnedCopy(converted, dtype, device);
    }

    /// <summary>One tensor in the file's dtype on the CPU (float8 decoded), owned by the caller.</summary>
    private Tensor LoadRaw(string key)
    {
        var info = _file.Info(key);
        return SafetensorsDTypeMapping.IsNative(info.DType)
            ? Load(key, SafetensorsDTypeMapping.ToScalarType(info.DType), torch.CPU)
            : _file.Load(key).DetachFromDisposeScope();
    }

    /// <summary>The module's first weight key (lora_A for LoRA): the order modules load in.</summary>
    private static string FirstWeightKey(LoraModuleSpec m) =>
        m.AKey ?? m.Tensors.Where(t => t.Key != LoraTensorRole.Alpha).Select(t => t.Value.Name).DefaultIfEmpty("").First();

    private bool AlphaTensorIsInteger(LoraModuleSpec m, IEnumerable<LoraModuleSpec> all)
    {
        string? key = m.AlphaKey ?? all.FirstOrDefault(o => o.AlphaKey != null && o.Alpha.Equals(m.Alpha))?.AlphaKey;
        if (key == null || !Model.Header.TryGetTensor(key, out var info)) return false;
        return info.DType is SafetensorsDType.I64 or SafetensorsDType.I32 or SafetensorsDType.I16 or SafetensorsDType.I8 or SafetensorsDType.U8;
    }

    /// <summary>
    /// Reads one tensor into new memory with one positioned read straight into tensor memory (no memory map: mapping costs a page fault per
    /// 4 KiB on every load, which dominated load time), then converts it to <paramref name="dtype"/> / moves it to
    /// <paramref name="device"/> if needed. float8 tensors go through <see cref="SafetensorsFile.Load"/>'s decoder.
    /// </summary>
    private Tensor Load(string key, ScalarType dtype, Device device)
    {
        var info = _file.Info(key);
        if (!SafetensorsDTypeMapping.IsNative(info.DType))
        {
            using var decoded = _file.Load(key);
            return LoraModuleInput.OwnedCopy(decoded, dtype, device);
        }
        var raw = torch.empty(info.Shape, SafetensorsDTypeMapping.ToScalarType(info.DType)).DetachFromDisposeScope();
        try
        {
            if (info.ByteLength > 0)
            {
                _handle ??= File.OpenHandle(SourceName, FileMode.Open, FileAccess.Read, FileShare.Read);
                long offset = Model.Header.DataOffset + info.Begin;
                var destination = raw.bytes;
                while (destination.Length > 0)
                {
                    int n = RandomAccess.Read(_handle, destination, offset);
                    if (n <= 0) throw new EndOfStreamException($"{SourceName}: file ended inside tensor '{key}'");
                    destination = destination.Slice(n);
                    offset += n;
                }
            }
            if (raw.dtype == dtype && device.type == DeviceType.CPU) return raw;
            using (raw) return LoraModuleInput.OwnedCopy(raw, dtype, device);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

    /// <summary>
    /// The PEFT config of <paramref name="component"/>: from <c>lora_adapter_metadata</c> (keys prefixed
    /// <c>&lt;component&gt;.</c>, or the unprefixed keys of a file written by <c>save_lora_adapter</c>), or a PEFT
    /// folder's <c>adapter_config.json</c>; null when the source has none.
    /// </summary>
    public LoraAdapterConfig? MetadataConfig(string component) =>
        _configs.TryGetValue(component, out var config) || _configs.TryGetValue("", out config) ? config : null;

    public void Dispose()
    {
        _handle?.Dispose();
        _file.Dispose();
    }
}
