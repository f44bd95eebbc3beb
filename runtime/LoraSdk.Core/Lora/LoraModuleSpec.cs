using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace LoraSdk.Core;

/// <summary>
/// One adapter module of a file: its target layer, variant, rank, alpha, kind, and its tensors by role (the file keys it
/// came from, with their shapes). LoRA and DoRA modules have <see cref="AKey"/>/<see cref="BKey"/>; LoHa and LoKr modules
/// have their LyCORIS tensors (<see cref="LoraTensorRole.HadaW1A"/>, <see cref="LoraTensorRole.LokrW1"/>, …) in
/// <see cref="Tensors"/>.
/// </summary>
public sealed class LoraModuleSpec
{
    internal LoraModuleSpec(string component, string modulePath, string format, string variant, int rank, double alpha,
        LoraAlphaSource alphaSource, bool useRsLora, LoraLayerKind kind, IReadOnlyList<int>? kernelSize, IReadOnlyList<int>? stride,
        IReadOnlyList<int>? padding, long inFeatures, long outFeatures, IEnumerable<KeyValuePair<LoraTensorRole, SafetensorsTensorInfo>> tensors,
        LoraModuleConversion? conversion = null)
    {
        Component = component;
        ModulePath = modulePath;
        Format = format;
        Variant = variant;
        Rank = rank;
        Alpha = alpha;
        AlphaSource = alphaSource;
        UseRsLora = useRsLora;
        Kind = kind;
        KernelSize = kernelSize == null ? null : new List<int>(kernelSize).AsReadOnly();
        Stride = stride;
        Padding = padding;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var byRole = new SortedDictionary<LoraTensorRole, SafetensorsTensorInfo>();
        foreach (var t in tensors) byRole.Add(t.Key, t.Value);
        Tensors = new ReadOnlyDictionary<LoraTensorRole, SafetensorsTensorInfo>(byRole);
        AShape = ShapeOf(LoraTensorRole.A);
        var bShape = Tensors.TryGetValue(LoraTensorRole.B, out var up) ? (long[])up.Shape.Clone() : null;
        if (conversion != null && bShape is { Length: > 0 }) bShape[0] = conversion.BRowCount;
        BShape = bShape == null ? null : Array.AsReadOnly(bShape);
        Conversion = conversion;
        MidShape = ShapeOf(LoraTensorRole.Mid);
        DType = SafetensorsDType.F32;
        foreach (var t in byRole)
        {
            if (t.Key == LoraTensorRole.Alpha) continue;
            DType = t.Value.DType;
            break;
        }
    }

    /// <summary>One of <see cref="LoraComponents"/>.</summary>
    public string Component { get; }

    /// <summary>
    /// Target layer in diffusers naming (<c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c>); text
    /// encoders in the host's layout without <c>text_model.</c> (<c>encoder.layers.0.self_attn.q_proj</c>).
    /// </summary>
    public string ModulePath { get; }

    /// <summary>The key family of this module's keys (<see cref="LoraKeyFormats"/>).</summary>
    public string Format { get; }

    /// <summary>
    /// The variant (<see cref="LoraVariants"/>): <c>lora</c>, <c>dora</c> (a PEFT magnitude vector), the LoCon Tucker form
    /// (a mid kernel), <c>loha</c> or <c>lokr</c>.
    /// </summary>
    public string Variant { get; }

    /// <summary>
    /// Rank r: rows of the down projection for LoRA; LyCORIS' <c>lora_dim</c> for LoHa (<c>hada_w1_b</c> dim 0) and LoKr
    /// (<c>lokr_w2_b</c> dim 0 when the second factor is factorised, else <c>lokr_w1_b</c> dim 0; 1 when both factors are full).
    /// </summary>
    public int Rank { get; }

    /// <summary>lora_alpha (see <see cref="AlphaSource"/>).</summary>
    public double Alpha { get; }

    /// <summary>Where <see cref="Alpha"/> came from.</summary>
    public LoraAlphaSource AlphaSource { get; }

    /// <summary>True when the adapter config says <c>use_rslora</c>: scaling is alpha / sqrt(r) instead of alpha / r.</summary>
    public bool UseRsLora { get; }

    /// <summary>The scaling: alpha / r, or alpha / sqrt(r) with rsLoRA (LoKr with two full factors: 1).</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>
    /// Linear or Conv2d, from the tensor shapes (LoCon mid, Tucker cores and 4-D factors are Conv2d); a LoHa/LoKr module
    /// whose factors are flat matrices is Conv2d when the base layout has a Conv2d layer there whose weight they compose to.
    /// </summary>
    public LoraLayerKind Kind { get; }

    /// <summary>Kernel (height, width) of the down conv (LoCon: of <c>lora_mid</c>; LoHa/LoKr: of ΔW); null for Linear.</summary>
    public IReadOnlyList<int>? KernelSize { get; }

    /// <summary>Stride of the base conv when the layout knows the layer (PEFT gives lora_A the base stride); else null.</summary>
    public IReadOnlyList<int>? Stride { get; }

    /// <summary>Padding of the base conv when the layout knows the layer; else null.</summary>
    public IReadOnlyList<int>? Padding { get; }

    /// <summary>Input features / channels of the adapted layer.</summary>
    public long InFeatures { get; }

    /// <summary>Output features / channels of the adapted layer.</summary>
    public long OutFeatures { get; }

    /// <summary>Every tensor of the module by its role (ordered by role), with its file key, shape and dtype.</summary>
    public IReadOnlyDictionary<LoraTensorRole, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>File key of the down projection (LoRA, DoRA, LoCon); null for LoHa and LoKr.</summary>
    public string? AKey => KeyOf(LoraTensorRole.A);

    /// <summary>File key of the up projection (LoRA, DoRA, LoCon); null for LoHa and LoKr.</summary>
    public string? BKey => KeyOf(LoraTensorRole.B);

    /// <summary>File key of the <c>.alpha</c> scalar, or null.</summary>
    public string? AlphaKey => KeyOf(LoraTensorRole.Alpha);

    /// <summary>File key of the LoCon <c>lora_mid</c> kernel, or null.</summary>
    public string? MidKey => KeyOf(LoraTensorRole.Mid);

    /// <summary>File key of the PEFT DoRA <c>lora_magnitude_vector</c>, or null.</summary>
    public string? MagnitudeKey => KeyOf(LoraTensorRole.Magnitude);

    /// <summary>True when the module carries a PEFT DoRA magnitude vector.</summary>
    public bool UsesDora => MagnitudeKey != null;

    /// <summary>Every file key of the module, in role order (A, B, alpha, mid, magnitude, then the LyCORIS tensors).</summary>
    public IEnumerable<string> Keys
    {
        get
        {
            foreach (var t in Tensors.Values) yield return t.Name;
        }
    }

    /// <summary>Shape of the down tensor; null for LoHa and LoKr.</summary>
    public IReadOnlyList<long>? AShape { get; }

    /// <summary>Shape of the up tensor as the module receives it (for a split module: its rows of the file's B tensor); null for LoHa and LoKr.</summary>
    public IReadOnlyList<long>? BShape { get; }

    /// <summary>
    /// How lora_A / lora_B are derived from the file's tensors when the file's layout differs from diffusers' (kohya,
    /// XLabs and BFL Flux files: split fused layers, folded alphas, swapped halves); null when the tensors are used as
    /// stored. <see cref="AKey"/> / <see cref="BKey"/> then name the file tensors the conversion starts from.
    /// </summary>
    public LoraModuleConversion? Conversion { get; }

    /// <summary>Shape of the mid tensor, or null.</summary>
    public IReadOnlyList<long>? MidShape { get; }

    /// <summary>Element type of the first weight tensor (the down tensor for LoRA).</summary>
    public SafetensorsDType DType { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Component}:{ModulePath} {Variant} {Kind} r={Rank} alpha={Alpha}";

    private string? KeyOf(LoraTensorRole role) => Tensors.TryGetValue(role, out var t) ? t.Name : null;

    private IReadOnlyList<long>? ShapeOf(LoraTensorRole role) =>
        Tensors.TryGetValue(role, out var t) ? Array.AsReadOnly((long[])t.Shape.Clone()) : null;
}
