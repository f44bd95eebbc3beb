using System;
using System.Collections.Generic;
using LoraSdk.Core;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// One module of an adapter about to be loaded, independent of where its tensors come from: a low-rank module (LoRA,
/// DoRA: A, B and an optional magnitude) or a LyCORIS module (LoHa, LoKr: its tensors by role).
/// </summary>
internal sealed class LoraModuleInput
{
    /// <summary>A LoRA (or, with a magnitude, DoRA) module.</summary>
    public LoraModuleInput(string path, string aKey, string bKey, bool? isConvolution, long[] aShape, long[] bShape,
        int rank, double alpha, bool alphaIsInteger, bool useRsLora, IReadOnlyList<int>? stride, IReadOnlyList<int>? padding,
        Func<ScalarType, Device, Tensor> loadA, Func<ScalarType, Device, Tensor> loadB, string? magnitudeKey = null,
        IReadOnlyList<long>? magnitudeShape = null, Func<ScalarType, Device, Tensor>? loadMagnitude = null)
    {
        Path = path;
        Variant = magnitudeKey is null ? LoraVariants.Lora : LoraVariants.PeftDora;
        AKey = aKey;
        BKey = bKey;
        IsConvolution = isConvolution;
        AShape = aShape;
        BShape = bShape;
        Rank = rank;
        Alpha = alpha;
        AlphaIsInteger = alphaIsInteger;
        UseRsLora = useRsLora;
        Stride = stride;
        Padding = padding;
        LoadA = loadA;
        LoadB = loadB;
        MagnitudeKey = magnitudeKey;
        MagnitudeShape = magnitudeShape;
        LoadMagnitude = loadMagnitude;
        VariantTensors = Array.Empty<LoraVariantTensorInput>();
    }

    /// <summary>A LyCORIS module (<see cref="LoraVariants.LoHa"/> or <see cref="LoraVariants.LoKr"/>) with its tensors.</summary>
    public LoraModuleInput(string path, string variant, int rank, double alpha, bool alphaIsInteger, IReadOnlyList<LoraVariantTensorInput> tensors)
    {
        Path = path;
        Variant = variant;
        Rank = rank;
        Alpha = alpha;
        AlphaIsInteger = alphaIsInteger;
        VariantTensors = tensors;
    }

    /// <summary>Module path as the source names it (before <see cref="LoraComponentOptions.ModulePathMap"/>).</summary>
    public string Path { get; }

    /// <summary>The variant (<see cref="LoraVariants"/>).</summary>
    public string Variant { get; }

    /// <summary>True for LoRA and DoRA (A/B factors), false for the LyCORIS variants.</summary>
    public bool IsLowRank => VariantTensors.Count == 0;

    /// <summary>lora_A's key (low-rank modules only).</summary>
    public string? AKey { get; }

    /// <summary>lora_B's key (low-rank modules only).</summary>
    public string? BKey { get; }

    /// <summary>Every tensor key of the module, for messages.</summary>
    public IEnumerable<string> Keys
    {
        get
        {
            if (AKey is not null) yield return AKey;
            if (BKey is not null) yield return BKey;
            if (MagnitudeKey is not null) yield return MagnitudeKey;
            foreach (var t in VariantTensors) yield return t.Key;
        }
    }

    /// <summary>Layer kind declared by the source (null: unknown, decided by the tensor rank).</summary>
    public bool? IsConvolution { get; }

    /// <summary>lora_A's shape (low-rank modules only).</summary>
    public long[]? AShape { get; }

    /// <summary>lora_B's shape (low-rank modules only).</summary>
    public long[]? BShape { get; }

    public int Rank { get; }

    public double Alpha { get; }

    public bool AlphaIsInteger { get; }

    public bool UseRsLora { get; }

    public IReadOnlyList<int>? Stride { get; }

    public IReadOnlyList<int>? Padding { get; }

    /// <summary>Loads lora_A as a new tensor owned by the caller, in the given dtype and device (low-rank modules only).</summary>
    public Func<ScalarType, Device, Tensor>? LoadA { get; }

    /// <summary>Loads lora_B as a new tensor owned by the caller, in the given dtype and device (low-rank modules only).</summary>
    public Func<ScalarType, Device, Tensor>? LoadB { get; }

    /// <summary>File key of the DoRA magnitude vector, or null for plain LoRA.</summary>
    public string? MagnitudeKey { get; }

    /// <summary>Shape of the DoRA magnitude vector, or null.</summary>
    public IReadOnlyList<long>? MagnitudeShape { get; }

    /// <summary>Loads the DoRA magnitude vector (null for plain LoRA).</summary>
    public Func<ScalarType, Device, Tensor>? LoadMagnitude { get; }

    /// <summary>The tensors of a LyCORIS module by role (empty for LoRA and DoRA).</summary>
    public IReadOnlyList<LoraVariantTensorInput> VariantTensors { get; }

    /// <summary>Copies <paramref name="source"/> into a new, contiguous tensor of the given dtype and device, outside any dispose scope.</summary>
    public static Tensor OwnedCopy(Tensor source, ScalarType dtype, Device device)
    {
        var copy = source.to(dtype, device, copy: true).contiguous();
        return copy.DetachFromDisposeScope();
    }
}

/// <summary>One tensor of a LyCORIS module about to be loaded: its role, file key, shape and loader.</summary>
internal sealed class LoraVariantTensorInput
{
    public LoraVariantTensorInput(LoraTensorRole role, string key, long[] shape, Func<ScalarType, Device, Tensor> load)
    {
        Role = role;
        Key = key;
        Shape = shape;
        Load = load;
    }

    public LoraTensorRole Role { get; }

    public string Key { get; }

    public long[] Shape { get; }

    /// <summary>Loads the tensor as a new tensor owned by the caller, in the given dtype and device.</summary>
    public Func<ScalarType, Device, Tensor> Load { get; }
}
