using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>One LoRA module of a file: its target layer, rank, alpha, kind, shapes and the file keys it came from.</summary>
public sealed class LoraModuleSpec
{
    internal LoraModuleSpec(string component, string modulePath, string format, int rank, double alpha, LoraAlphaSource alphaSource,
        bool useRsLora, LoraLayerKind kind, IReadOnlyList<int>? kernelSize, IReadOnlyList<int>? stride, IReadOnlyList<int>? padding,
        long inFeatures, long outFeatures, SafetensorsTensorInfo down, SafetensorsTensorInfo up, SafetensorsTensorInfo? alphaTensor,
        SafetensorsTensorInfo? mid, SafetensorsTensorInfo? magnitude, LoraModuleConversion? conversion = null)
    {
        Component = component;
        ModulePath = modulePath;
        Format = format;
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
        AKey = down.Name;
        BKey = up.Name;
        AlphaKey = alphaTensor?.Name;
        MidKey = mid?.Name;
        MagnitudeKey = magnitude?.Name;
        AShape = Array.AsReadOnly((long[])down.Shape.Clone());
        var bShape = (long[])up.Shape.Clone();
        if (conversion != null && bShape.Length > 0) bShape[0] = conversion.BRowCount;
        BShape = Array.AsReadOnly(bShape);
        Conversion = conversion;
        MidShape = mid == null ? null : Array.AsReadOnly((long[])mid.Shape.Clone());
        DType = down.DType;
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

    /// <summary>Rank r (rows of the down projection).</summary>
    public int Rank { get; }

    /// <summary>lora_alpha (see <see cref="AlphaSource"/>).</summary>
    public double Alpha { get; }

    /// <summary>Where <see cref="Alpha"/> came from.</summary>
    public LoraAlphaSource AlphaSource { get; }

    /// <summary>True when the adapter config says <c>use_rslora</c>: scaling is alpha / sqrt(r) instead of alpha / r.</summary>
    public bool UseRsLora { get; }

    /// <summary>PEFT's scaling: alpha / r, or alpha / sqrt(r) with rsLoRA.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Linear or Conv2d (from the tensor shapes).</summary>
    public LoraLayerKind Kind { get; }

    /// <summary>Kernel (height, width) of the down conv (LoCon: of <c>lora_mid</c>); null for Linear.</summary>
    public IReadOnlyList<int>? KernelSize { get; }

    /// <summary>Stride of the base conv when the layout knows the layer (PEFT gives lora_A the base stride); else null.</summary>
    public IReadOnlyList<int>? Stride { get; }

    /// <summary>Padding of the base conv when the layout knows the layer; else null.</summary>
    public IReadOnlyList<int>? Padding { get; }

    /// <summary>Input features / channels of the adapted layer.</summary>
    public long InFeatures { get; }

    /// <summary>Output features / channels of the adapted layer.</summary>
    public long OutFeatures { get; }

    /// <summary>File key of the down projection.</summary>
    public string AKey { get; }

    /// <summary>File key of the up projection.</summary>
    public string BKey { get; }

    /// <summary>File key of the <c>.alpha</c> scalar, or null.</summary>
    public string? AlphaKey { get; }

    /// <summary>File key of the LoCon <c>lora_mid</c> kernel, or null.</summary>
    public string? MidKey { get; }

    /// <summary>File key of the PEFT DoRA <c>lora_magnitude_vector</c>, or null.</summary>
    public string? MagnitudeKey { get; }

    /// <summary>True when the module carries a PEFT DoRA magnitude vector.</summary>
    public bool UsesDora => MagnitudeKey != null;

    /// <summary>The variant (<see cref="LoraVariants"/>): <c>dora</c> with a magnitude vector, the LoCon Tucker form with a mid kernel, else <c>lora</c>.</summary>
    public string Variant => MagnitudeKey != null ? LoraVariants.PeftDora : MidKey != null ? LoraVariants.LoconTucker : LoraVariants.Lora;

    /// <summary>Every file key of the module, in the order A, B, alpha, mid, magnitude.</summary>
    public IEnumerable<string> Keys
    {
        get
        {
            yield return AKey;
            yield return BKey;
            if (AlphaKey != null) yield return AlphaKey;
            if (MidKey != null) yield return MidKey;
            if (MagnitudeKey != null) yield return MagnitudeKey;
        }
    }

    /// <summary>Shape of the down tensor.</summary>
    public IReadOnlyList<long> AShape { get; }

    /// <summary>Shape of lora_B as the module receives it (for a split module: its rows of the file's B tensor).</summary>
    public IReadOnlyList<long> BShape { get; }

    /// <summary>
    /// How lora_A / lora_B are derived from the file's tensors when the file's layout differs from diffusers' (kohya,
    /// XLabs and BFL Flux files: split fused layers, folded alphas, swapped halves); null when the tensors are used as
    /// stored. <see cref="AKey"/> / <see cref="BKey"/> then name the file tensors the conversion starts from.
    /// </summary>
    public LoraModuleConversion? Conversion { get; }

    /// <summary>Shape of the mid tensor, or null.</summary>
    public IReadOnlyList<long>? MidShape { get; }

    /// <summary>Element type of the down tensor.</summary>
    public SafetensorsDType DType { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Component}:{ModulePath} {Kind} r={Rank} alpha={Alpha}";
}
