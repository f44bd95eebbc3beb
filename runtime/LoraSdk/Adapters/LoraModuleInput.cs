using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>One module of an adapter about to be loaded, independent of where its tensors come from.</summary>
internal sealed class LoraModuleInput
{
    public LoraModuleInput(string path, string aKey, string bKey, bool? isConvolution, long[] aShape, long[] bShape,
        int rank, double alpha, bool alphaIsInteger, bool useRsLora, IReadOnlyList<int>? stride, IReadOnlyList<int>? padding,
        Func<ScalarType, Device, Tensor> loadA, Func<ScalarType, Device, Tensor> loadB, string? magnitudeKey = null,
        IReadOnlyList<long>? magnitudeShape = null, Func<ScalarType, Device, Tensor>? loadMagnitude = null)
    {
        Path = path;
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
    }

    /// <summary>Module path as the source names it (before <see cref="LoraComponentOptions.ModulePathMap"/>).</summary>
    public string Path { get; }

    public string AKey { get; }

    public string BKey { get; }

    /// <summary>Layer kind declared by the source (null: unknown, decided by the tensor rank).</summary>
    public bool? IsConvolution { get; }

    public long[] AShape { get; }

    public long[] BShape { get; }

    public int Rank { get; }

    public double Alpha { get; }

    public bool AlphaIsInteger { get; }

    public bool UseRsLora { get; }

    public IReadOnlyList<int>? Stride { get; }

    public IReadOnlyList<int>? Padding { get; }

    /// <summary>Loads lora_A as a new tensor owned by the caller, in the given dtype and device.</summary>
    public Func<ScalarType, Device, Tensor> LoadA { get; }

    /// <summary>Loads lora_B as a new tensor owned by the caller, in the given dtype and device.</summary>
    public Func<ScalarType, Device, Tensor> LoadB { get; }

    /// <summary>File key of the DoRA magnitude vector, or null for plain LoRA.</summary>
    public string? MagnitudeKey { get; }

    /// <summary>Shape of the DoRA magnitude vector, or null.</summary>
    public IReadOnlyList<long>? MagnitudeShape { get; }

    /// <summary>Loads the DoRA magnitude vector (null for plain LoRA).</summary>
    public Func<ScalarType, Device, Tensor>? LoadMagnitude { get; }

    /// <summary>Copies <paramref name="source"/> into a new, contiguous tensor of the given dtype and device, outside any dispose scope.</summary>
    public static Tensor OwnedCopy(Tensor source, ScalarType dtype, Device device)
    {
        var copy = source.to(dtype, device, copy: true).contiguous();
        return copy.DetachFromDisposeScope();
    }
}
