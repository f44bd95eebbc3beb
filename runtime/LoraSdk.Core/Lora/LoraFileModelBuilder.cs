using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>Groups canonicalized keys into modules, validates their shapes, resolves alphas and builds a <see cref="LoraFileModel"/>.</summary>
internal sealed partial class LoraFileModelBuilder
{
    private readonly SafetensorsHeader _header;
    private readonly Func<SafetensorsTensorInfo, double>? _readScalar;
    private readonly LoraFileModelOptions _options;
    private readonly List<string> _warnings = new List<string>();
    private readonly List<InvalidLoraModule> _invalid = new List<InvalidLoraModule>();

    private readonly LoraAdapterConfig? _adapterConfig;

    public LoraFileModelBuilder(SafetensorsHeader header, Func<SafetensorsTensorInfo, double>? readScalar, LoraFileModelOptions options,
        LoraAdapterConfig? adapterConfig = null, IReadOnlyList<string>? configWarnings = null)
    {
        _header = header;
        _readScalar = readScalar;
        _adapterConfig = adapterConfig;
        if (configWarnings != null) _warnings.AddRange(configWarnings);
        _options = options;
    }

    private sealed class Group
    {
        public Group(string component, string path)
        {
            Component = component;
            Path = path;
        }

        public string Component { get; }
        public string Path { get; }
        public List<string> Keys { get; } = new List<string>();
        public Dictionary<LoraTensorRole, SafetensorsTensorInfo> Tensors { get; } = new Dictionary<LoraTensorRole, SafetensorsTensorInfo>();

        /// <summary>A variant the engine refuses (a tensor of it was seen): the whole module is reported as unsupported.</summary>
        public string? Variant { get; set; }
        public string? Duplicate { get; set; }
        public string Format { get; set; } = LoraKeyFormats.Unknown;

        /// <summary>Set for modules of a converted Flux layout (split / folded / swapped tensors).</summary>
        public FluxModuleSource? Flux { get; set; }
    }

    private sealed class Shaped
    {
        public Shaped(Group group) => Group = group;
        public Group Group { get; }
        public string Variant { get; set; } = LoraVariants.Lora;
        public bool IsLycoris => Variant == LoraVariants.LoHa || Variant == LoraVariants.LoKr;

        /// <summary>LoKr with two full factors: LyCORIS scales by 1 whatever the file's alpha.</summary>
        public bool AlphaIgnored { get; set; }
        public int Rank { get; set; }
        public LoraLayerKind Kind { get; set; }
        public int[]? Kernel { get; set; }
        public long In { get; set; }
        public long Out { get; set; }
        public double? TensorAlpha { get; set; }
        public bool Invalid { get; set; }
        public long BRowStart { get; set; }
    }

    public LoraFileModel Build()
    {
        var canonicalizer = LoraKeyCanonicalizer.For(_options);
        var tensors = new List<SafetensorsTensorInfo>(_header.Tensors);
        tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        var unmapped = new List<string>();
        var mappings = new List<LoraKeyMapping>();
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        var groupOrder = new List<Group>();
        var orphanVariants = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var formats = new SortedSet<string>(StringComparer.Ordinal);
        var ignored = new List<IgnoredLoraKey>();

        var names = new List<string>(tensors.Count);
        foreach (var t in tensors) names.Add(t.Name);
        var flux = FluxLoraConversion.TryConvert(names, canonicalizer, _options);
        if (flux != null)
        {
            AddFluxSources(flux, groups, groupOrder, formats);
            unmapped.AddRange(flux.Unmapped);
            unmapped.Sort(StringComparer.Ordinal);
            mappings.AddRange(flux.Mappings);
            mappings.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            ignored.AddRange(flux.Ignored);
            ignored.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            foreach (var u in flux.Unsupported) foreach (var k in u.Value) Add(orphanVariants, u.Key, k);
        }

        foreach (var t in flux == null ? tensors : new List<SafetensorsTensorInfo>())
        {
            if (!canonicalizer.TryMap(t.Name, out var mapping))
            {
                unmapped.Add(t.Name);
                continue;
            }
            mappings.Add(mapping);
            if (mapping.Role != LoraTensorRole.Alpha) formats.Add(mapping.Format);
            if (mapping.ModulePath == null)
            {
                Add(orphanVariants, mapping.Variant!, t.Name);
                continue;
            }
            string id = mapping.Component + "\n" + mapping.ModulePath;
            if (!groups.TryGetValue(id, out var g))
            {
                groups[id] = g = new Group(mapping.Component, mapping.ModulePath);
                groupOrder.Add(g);
            }
            g.Keys.Add(t.Name);
            if (mapping.Variant != null && LycorisTensorNames.VariantOf(mapping.Role) == null) g.Variant ??= mapping.Variant;
            if (mapping.Role != LoraTensorRole.Alpha && g.Format == LoraKeyFormats.Unknown) g.Format = mapping.Format;
            if (mapping.Role == LoraTensorRole.VariantTensor) continue;
            if (g.Tensors.TryGetValue(mapping.Role, out var existing))
                g.Duplicate ??= $"two {RoleName(mapping.Role)} tensors map to this module: '{existing.Name}' and '{t.Name}'";
            else g.Tensors[mapping.Role] = t;
        }

        var unsupported = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var o in orphanVariants) foreach (var k in o.Value) Add(unsupported, o.Key, k);
        var shapedByComponent = new Dictionary<string, List<Shaped>>(StringComparer.Ordinal);
        foreach (var g in groupOrder)
        {
            if (g.Variant != null)
            {
                foreach (var k in g.Keys) Add(unsupported, g.Variant, k);
                continue;
            }
            if (g.Duplicate != null)
            {
                Invalid(g, g.Duplicate);
                continue;
            }
            var shaped = Shape(g);
            if (shaped == null) continue;
            if (!shapedByComponent.TryGetValue(g.Component, out var list)) shapedByComponent[g.Component] = list = new List<Shaped>();
            list.Add(shaped);
        }

        // A PEFT adapter folder's adapter_config.json describes every module; its weights file has no LoRA metadata.
        var configs = _adapterConfig is null
            ? LoraAdapterConfig.FromSafetensorsMetadata(_header.Metadata, _warnings)
            : new Dictionary<string, LoraAdapterConfig>(StringComparer.Ordinal) { [""] = _adapterConfig };
        var components = new SortedDictionary<string, IReadOnlyDictionary<string, LoraModuleSpec>>(StringComparer.Ordinal);
        foreach (var entry in shapedByComponent)
        {
            // .alpha scalars matter only where no adapter metadata decides the alphas, for converted Flux layers (whose
            // alpha is folded into the tensors) and for LoHa/LoKr (whose alpha is their .alpha as LyCORIS reads it):
            // read just those bytes.
            if (_readScalar != null) ReadAlphas(entry.Value, lowRankToo: !HasConfig(configs, entry.Key));
            entry.Value.RemoveAll(m => m.Invalid);
            if (entry.Value.Count == 0) continue;
            var specs = ResolveComponent(entry.Key, entry.Value, configs);
            if (specs.Count > 0) components[entry.Key] = new ReadOnlyDictionary<string, LoraModuleSpec>(specs);
        }

        var unsupportedList = new List<UnsupportedVariant>();
        foreach (var u in unsupported)
        {
            u.Value.Sort(StringComparer.Ordinal);
            unsupportedList.Add(new UnsupportedVariant(u.Key, u.Value.AsReadOnly()));
        }
        _invalid.Sort((a, b) =>
        {
            int c = string.CompareOrdinal(a.Component, b.Component);
            return c != 0 ? c : string.CompareOrdinal(a.ModulePath, b.ModulePath);
        });

        var formatList = new List<string>(formats);
        var triggerWords = LoraMetadata.ExtractTriggerWords(_header.Metadata, _warnings);
        var readOnlyComponents = new ReadOnlyDictionary<string, IReadOnlyDictionary<string, LoraModuleSpec>>(components);
        string? implied = LoraArchitectureInference.Infer(readOnlyComponents, _options, flux != null);
        return new LoraFileModel(_header, _options, OverallFormat(formatList), formatList.AsReadOnly(), readOnlyComponents, mappings.AsReadOnly(),
            unmapped.AsReadOnly(), unsupportedList.AsReadOnly(), _invalid.AsReadOnly(), _warnings.AsReadOnly(), triggerWords,
            LoraMetadata.DeclaredArchitectureRaw(_header.Metadata), implied, ignored.AsReadOnly());
    }

    /// <summary>One group per converted Flux module; the shared file tensors are referenced by every module they feed.</summary>
    private void AddFluxSources(FluxLoraConversion.Result flux, Dictionary<string, Group> groups, List<Group> groupOrder, SortedSet<string> formats)
    {
        foreach (var source in flux.Sources)
        {
            formats.Add(source.Format);
            string id = source.Component + "\n" + source.Path;
            if (groups.TryGetValue(id, out var existing))
            {
                existing.Duplicate ??= $"two file layers map to this module: '{existing.Flux?.SourceModule}' and '{source.SourceModule}'";
                existing.Keys.AddRange(source.Keys);
                continue;
            }
            var g = new Group(source.Component, source.Path) { Format = source.Format, Flux = source };
            groups[id] = g;
            groupOrder.Add(g);
            g.Keys.AddRange(source.Keys);
            if (_header.TryGetTensor(source.AKey, out var down)) g.Tensors[LoraTensorRole.A] = down;
            if (_header.TryGetTensor(source.BKey, out var up)) g.Tensors[LoraTensorRole.B] = up;
            if (source.AlphaKey != null && _header.TryGetTensor(source.AlphaKey, out var alpha)) g.Tensors[LoraTensorRole.Alpha] = alpha;
        }
    }

    /// <summary>The rows of the file's up tensor a split module takes, as diffusers splits them; null (with the reason) when they do not fit.</summary>
    private static (long Start, long Count)? BRows(FluxModuleSource f, long rows, string bKey, out string? error)
    {
        error = null;
        if (f.SwapBHalves && rows % 2 != 0)
        {
            error = $"'{bKey}' has {rows} rows, which do not split into the (shift, scale) halves diffusers swaps";
            return null;
        }
        switch (f.Split)
        {
            case FluxModuleNames.Split.Equal:
                if (rows % f.SplitCount != 0)
                {
                    error = $"'{bKey}' has {rows} rows, which do not split into {f.SplitCount} equal parts (q, k, v) as diffusers splits '{f.SourceModule}'";
                    return null;
                }
                return (f.SplitIndex * (rows / f.SplitCount), rows / f.SplitCount);
            case FluxModuleNames.Split.Flux1Linear1:
            {
                long total = 0, start = 0;
                for (int i = 0; i < FluxModuleNames.Flux1Linear1Rows.Count; i++)
                {
                    if (i == f.SplitIndex) start = total;
                    total += FluxModuleNames.Flux1Linear1Rows[i];
                }
                if (rows != total)
                {
                    error = $"diffusers splits the lora_up of single-block linear1 '{f.SourceModule}' by FLUX.1's fixed sizes " +
                            $"[{string.Join(", ", FluxModuleNames.Flux1Linear1Rows)}] ({total} rows), but '{bKey}' has {rows} rows; " +
                            "the file does not fit this conversion (diffusers fails with an AssertionError in _convert_to_ai_toolkit_cat)";
                    return null;
                }
                return (start, FluxModuleNames.Flux1Linear1Rows[f.SplitIndex]);
            }
            default:
                return (0, rows);
        }
    }

    /// <summary>
    /// diffusers' kohya fold: scale = alpha / rank (a Python float for single layers; a tensor in the alpha's dtype —
    /// or lora_down's when there is no alpha — for fused layers and <c>lora_transformer_</c> files), split into
    /// scale_down × scale_up by halving scale_up and doubling scale_down while scale_down · 2 &lt; scale_up.
    /// </summary>
    private (double Down, double Up) FoldScales(Shaped m)
    {
        var g = m.Group;
        var f = g.Flux!;
        if (f.Fold == FluxAlphaFold.None || f.Fold == FluxAlphaFold.Keep) return (1.0, 1.0);
        double alpha = m.Rank;
        SafetensorsDType dtype = g.Tensors[LoraTensorRole.A].DType;
        if (g.Tensors.TryGetValue(LoraTensorRole.Alpha, out var alphaTensor))
        {
            dtype = alphaTensor.DType;
            if (m.TensorAlpha is double a) alpha = a;
            else _warnings.Add($"{g.Component}: {g.Path}: alpha tensor '{alphaTensor.Name}' was not read (no tensor reader); alpha = rank assumed, nothing folded");
        }
        double scale = f.Fold == FluxAlphaFold.Scalar ? alpha / m.Rank : TorchScalarArithmetic.Divide(alpha, m.Rank, dtype);
        double down = scale, up = 1.0;
        while (down * 2 < up)
        {
            down *= 2;
            up /= 2;
        }
        return (down, up);
    }

    private static string OverallFormat(List<string> formats)
    {
        if (formats.Count == 0) return LoraKeyFormats.Unknown;
        if (formats.Count == 1) return formats[0];
        // LoraSdk's saved form of an adapter with LoRA and LoHa/LoKr modules.
        if (formats.Count == 2 && formats.Contains(LoraKeyFormats.Peft) && formats.Contains(LoraKeyFormats.LycorisDiffusers))
            return LoraKeyFormats.LycorisDiffusers;
        bool kohyaFamily = true;
        foreach (var f in formats)
            if (f != LoraKeyFormats.Kohya && f != LoraKeyFormats.KohyaSgm && f != LoraKeyFormats.Lycoris) kohyaFamily = false;
        if (!kohyaFamily) return LoraKeyFormats.Mixed;
        return formats.Contains(LoraKeyFormats.Lycoris) ? LoraKeyFormats.Lycoris : LoraKeyFormats.KohyaSgm;
    }

    private Shaped? Shape(Group g)
    {
        var lycoris = new SortedSet<string>(StringComparer.Ordinal);
        bool lora = false;
        foreach (var role in g.Tensors.Keys)
        {
            string? v = LycorisTensorNames.VariantOf(role);
            if (v != null) lycoris.Add(v);
            else if (role != LoraTensorRole.Alpha) lora = true;
        }
        if (lycoris.Count > 1 || (lycoris.Count == 1 && lora))
        {
            Invalid(g, $"mixes the tensors of {(lora ? "LoRA and " : "")}{string.Join(" and ", lycoris)} in one module");
            return null;
        }
        if (lycoris.Count == 1)
            return lycoris.Min == LoraVariants.LoHa ? ShapeLoha(g) : ShapeLokr(g);
        return ShapeLowRank(g);
    }

    private Shaped? ShapeLowRank(Group g)
    {
        g.Tensors.TryGetValue(LoraTensorRole.A, out var down);
        g.Tensors.TryGetValue(LoraTensorRole.B, out var up);
        g.Tensors.TryGetValue(LoraTensorRole.Mid, out var mid);
        g.Tensors.TryGetValue(LoraTensorRole.Alpha, out var alpha);
        if (down == null || up == null)
        {
            Invalid(g, down == null && up == null ? "no down or up tensor (only " + string.Join(", ", g.Keys) + ")"
                : down == null ? "has an up tensor but no down tensor" : "has a down tensor but no up tensor");
            return null;
        }
        var d = down.Shape;
        var u = up.Shape;
        var s = new Shaped(g);
        if (mid == null && d.Length == 2 && u.Length == 2)
        {
            s.Kind = LoraLayerKind.Linear;
            s.In = d[1];
            s.Out = u[0];
            if (g.Flux != null)
            {
                var rows = BRows(g.Flux, u[0], up.Name, out string? error);
                if (rows == null)
                {
                    Invalid(g, error!);
                    return null;
                }
                s.BRowStart = rows.Value.Start;
                s.Out = rows.Value.Count;
            }
        }
        else if (g.Flux != null)
        {
            Invalid(g, $"shapes down {SafetensorsHeader.FormatShape(d)}, up {SafetensorsHeader.FormatShape(u)} are not a Linear LoRA ((r, in), (out, r)); every Flux layer is Linear");
            return null;
        }
        else if (d.Length == 4 && u.Length == 4 && u[2] == 1 && u[3] == 1)
        {
            s.Kind = LoraLayerKind.Conv2d;
            s.In = d[1];
            s.Out = u[0];
            if (mid == null)
            {
                s.Kernel = Kernel(d[2], d[3]);
            }
            else
            {
                var m = mid.Shape;
                if (m.Length != 4 || d[2] != 1 || d[3] != 1 || m[0] != d[0] || m[1] != d[0])
                {
                    Invalid(g, $"LoCon mid {SafetensorsHeader.FormatShape(m)} does not fit down {SafetensorsHeader.FormatShape(d)} (expected (r, r, kh, kw) with a 1x1 down)");
                    return null;
                }
                s.Kernel = Kernel(m[2], m[3]);
            }
            if (s.Kernel == null)
            {
                Invalid(g, "kernel size out of range");
                return null;
            }
        }
        else
        {
            Invalid(g, $"shapes down {SafetensorsHeader.FormatShape(d)}, up {SafetensorsHeader.FormatShape(u)}{(mid != null ? ", mid " + SafetensorsHeader.FormatShape(mid.Shape) : "")} are neither Linear ((r, in), (out, r)) nor Conv2d ((r, in, kh, kw), (out, r, 1, 1))");
            return null;
        }
        if (d[0] < 1 || d[0] > int.MaxValue || u[1] != d[0])
        {
            Invalid(g, $"rank mismatch: down {SafetensorsHeader.FormatShape(d)} and up {SafetensorsHeader.FormatShape(u)} must share a positive rank (down dim 0 = up dim 1)");
            return null;
        }
        s.Rank = (int)d[0];
        s.Variant = g.Tensors.ContainsKey(LoraTensorRole.Magnitude) ? LoraVariants.PeftDora : mid != null ? LoraVariants.LoconTucker : LoraVariants.Lora;
        return CheckAlphaIsScalar(g) ? s : null;
    }

    /// <summary>False (and the module reported invalid) when the module's <c>.alpha</c> tensor is not a scalar.</summary>
    private bool CheckAlphaIsScalar(Group g)
    {
        if (g.Tensors.TryGetValue(LoraTensorRole.Alpha, out var alpha) && alpha.ElementCount != 1)
        {
            Invalid(g, $"alpha tensor '{alpha.Name}' has {alpha.ElementCount} elements, expected a scalar");
            return false;
        }
        return true;
    }

    private static bool HasConfig(IReadOnlyDictionary<string, LoraAdapterConfig> configs, string component) =>
        configs.ContainsKey(component) || configs.ContainsKey("");

    private void ReadAlphas(List<Shaped> modules, bool lowRankToo)
    {
        foreach (var m in modules)
        {
            if (m.IsLycoris ? m.AlphaIgnored : !lowRankToo && m.Group.Flux == null) continue;
            if (!m.Group.Tensors.TryGetValue(LoraTensorRole.Alpha, out var alpha)) continue;
            double value = _readScalar!(alpha);
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                Invalid(m.Group, $"alpha tensor '{alpha.Name}' is not finite ({value.ToString(CultureInfo.InvariantCulture)})");
                m.Invalid = true;
                continue;
            }
            m.TensorAlpha = value;
        }
    }

    private SortedDictionary<string, LoraModuleSpec> ResolveComponent(string component, List<Shaped> modules,
        IReadOnlyDictionary<string, LoraAdapterConfig> configs)
    {
        var specs = new SortedDictionary<string, LoraModuleSpec>(StringComparer.Ordinal);
        if (!configs.TryGetValue(component, out var config)) configs.TryGetValue("", out config);
        bool textEncoder = LoraComponents.IsTextEncoder(component);

        // Without metadata: diffusers' get_peft_kwargs (per component) — the most frequent .alpha value for modules
        // without one, and the first module's rank when there are no alphas at all. LoHa/LoKr modules take no part:
        // their alpha is their own .alpha (LyCORIS).
        double? commonAlpha = null;
        bool anyUnresolved = false;
        int firstRank = 0;
        var lowRank = modules.FindAll(m => !m.IsLycoris);
        if (config == null && lowRank.Count > 0)
        {
            var ordered = new List<Shaped>(lowRank);
            ordered.Sort((a, b) => string.CompareOrdinal(a.Group.Tensors[LoraTensorRole.A].Name, b.Group.Tensors[LoraTensorRole.A].Name));
            firstRank = ordered[0].Rank;
            var counts = new Dictionary<double, int>();
            var firstSeen = new List<double>();
            foreach (var m in ordered)
            {
                if (m.Group.Tensors.ContainsKey(LoraTensorRole.Alpha) && m.TensorAlpha == null) anyUnresolved = true;
                if (m.TensorAlpha is double a)
                {
                    if (!counts.ContainsKey(a)) firstSeen.Add(a);
                    counts.TryGetValue(a, out int c);
                    counts[a] = c + 1;
                }
            }
            int best = 0;
            foreach (var a in firstSeen)
            {
                if (counts[a] > best)
                {
                    best = counts[a];
                    commonAlpha = a;
                }
            }
        }
        foreach (var m in modules)
            if (m.IsLycoris && !m.AlphaIgnored && m.Group.Tensors.ContainsKey(LoraTensorRole.Alpha) && m.TensorAlpha == null) anyUnresolved = true;
        if (anyUnresolved)
            _warnings.Add($"{component}: .alpha tensors were not read (no tensor reader); alpha = rank assumed");
        int lycorisWithoutAlpha = 0;

        foreach (var m in modules)
        {
            var g = m.Group;
            double alpha;
            LoraAlphaSource source;
            bool rsLora = false;
            LoraModuleConversion? conversion = null;
            if (g.Flux is { } flux)
            {
                var (downScale, upScale) = FoldScales(m);
                conversion = new LoraModuleConversion(flux.SourceModule, downScale, upScale, m.BRowStart, m.Out, flux.SwapBHalves,
                    flux.SplitIndex, flux.SplitCount, flux.BlockDiagonalCandidate && m.Rank % flux.SplitCount == 0);
            }
            if (g.Flux is { Fold: not FluxAlphaFold.Keep } folded)
            {
                // PEFT gets lora_alpha = r for these layouts (diffusers passes no network alphas): scaling 1.
                alpha = m.Rank;
                source = folded.Fold == FluxAlphaFold.None ? LoraAlphaSource.RankDefault : LoraAlphaSource.FoldedIntoWeights;
            }
            else if (m.IsLycoris)
            {
                // LyCORIS scales by alpha / rank with the module's own .alpha (none: scale 1); a config does not apply.
                if (m.AlphaIgnored)
                {
                    alpha = m.Rank;
                    source = LoraAlphaSource.Ignored;
                }
                else if (m.TensorAlpha is double own)
                {
                    alpha = own;
                    source = LoraAlphaSource.Tensor;
                }
                else if (g.Tensors.ContainsKey(LoraTensorRole.Alpha))
                {
                    alpha = m.Rank;
                    source = LoraAlphaSource.Unresolved;
                }
                else
                {
                    alpha = m.Rank;
                    source = LoraAlphaSource.RankDefault;
                    lycorisWithoutAlpha++;
                }
            }
            else if (config != null)
            {
                var names = textEncoder ? new[] { g.Path, "text_model." + g.Path } : new[] { g.Path };
                alpha = config.AlphaFor(names, out bool fromPattern, _warnings);
                source = fromPattern ? LoraAlphaSource.MetadataPattern : LoraAlphaSource.Metadata;
                rsLora = config.UseRsLora;
                int expectedRank = config.RankFor(names, _warnings);
                if (expectedRank != m.Rank)
                    _warnings.Add($"{component}: {g.Path}: rank {m.Rank.ToString(CultureInfo.InvariantCulture)} from shapes, but {LoraAdapterConfig.MetadataKey} says {expectedRank.ToString(CultureInfo.InvariantCulture)}");
            }
            else if (m.TensorAlpha is double own)
            {
                alpha = own;
                source = LoraAlphaSource.Tensor;
            }
            else if (g.Tensors.ContainsKey(LoraTensorRole.Alpha))
            {
                alpha = m.Rank;
                source = LoraAlphaSource.Unresolved;
            }
            else if (commonAlpha is double common)
            {
                alpha = common;
                source = LoraAlphaSource.TensorDefault;
            }
            else
            {
                alpha = firstRank;
                source = LoraAlphaSource.RankDefault;
            }

            IReadOnlyList<int>? stride = null, padding = null;
            if (m.Kind == LoraLayerKind.Conv2d && component == LoraComponents.Unet && TryFindBaseConv(g.Path, out var baseInfo))
            {
                stride = baseInfo.Stride;
                padding = baseInfo.Padding;
            }
            specs[g.Path] = new LoraModuleSpec(component, g.Path, g.Format, m.Variant, m.Rank, alpha, source, rsLora, m.Kind, m.Kernel, stride, padding,
                m.In, m.Out, g.Tensors, conversion);
        }
        if (config != null && lycorisWithoutAlpha > 0)
            _warnings.Add($"{component}: {lycorisWithoutAlpha.ToString(CultureInfo.InvariantCulture)} LoHa/LoKr module(s) without .alpha are scaled by 1 " +
                $"(LyCORIS); {LoraAdapterConfig.MetadataKey}'s lora_alpha does not apply to them");
        if (config != null && config.UseDora)
        {
            bool any = false;
            foreach (var s in specs.Values) any |= s.UsesDora;
            if (!any) _warnings.Add($"{component}: {LoraAdapterConfig.MetadataKey} says use_dora but no lora_magnitude_vector tensors exist");
        }
        return specs;
    }

    private bool TryFindBaseConv(string path, out BaseModuleInfo info)
    {
        if (_options.Unet.TryGetModule(path, out info) && info.Kind == LoraLayerKind.Conv2d) return true;
        foreach (var layout in UnetLayout.BuiltIn)
            if (layout.TryGetModule(path, out info) && info.Kind == LoraLayerKind.Conv2d) return true;
        info = null!;
        return false;
    }

    private void Invalid(Group g, string reason)
    {
        var keys = new List<string>(g.Keys);
        keys.Sort(StringComparer.Ordinal);
        _invalid.Add(new InvalidLoraModule(g.Component, g.Path, keys.AsReadOnly(), reason));
    }

    private static int[]? Kernel(long h, long w) =>
        h < 1 || w < 1 || h > int.MaxValue || w > int.MaxValue ? null : new[] { (int)h, (int)w };

    private static void Add(SortedDictionary<string, List<string>> map, string key, string value)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = new List<string>();
        list.Add(value);
    }

    /// <summary>A role as messages name it (PEFT's tensor names for the two factors).</summary>
    private static string RoleName(LoraTensorRole role) => role switch
    {
        LoraTensorRole.A => "lora_A (down)",
        LoraTensorRole.B => "lora_B (up)",
        _ => role.ToString().ToLowerInvariant(),
    };
}
