using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// One adapter's weights in one layer, like PEFT's <c>lora_A[name]</c> / <c>lora_B[name]</c> / <c>r[name]</c> /
/// <c>lora_alpha[name]</c> / <c>scaling[name]</c>. The tensors are live and owned by the layer: read them (or clone
/// them), never dispose or resize them. All mutation goes through <see cref="Adapters.LoraComponent"/>.
/// </summary>
public sealed class LoraAdapterWeights
{
    internal LoraAdapterWeights(string adapterName, Tensor down, Tensor up, int configuredRank, double alpha, bool useRsLora)
    {
        AdapterName = adapterName;
        A = down;
        B = up;
        ConfiguredRank = configuredRank;
        Alpha = alpha;
        UseRsLora = useRsLora;
        Scaling = ScalingFor(1.0);
    }

    /// <summary>The adapter name.</summary>
    public string AdapterName { get; }

    /// <summary>
    /// <c>lora_A</c>: (rank, in) for Linear, (rank, in, kh, kw) for Conv2d (same kernel, stride and padding as the
    /// base convolution).
    /// </summary>
    public Tensor A { get; internal set; }

    /// <summary><c>lora_B</c>: (out, rank) for Linear, (out, rank, 1, 1) for Conv2d.</summary>
    public Tensor B { get; internal set; }

    /// <summary>The rank of the stored tensors (larger than <see cref="ConfiguredRank"/> after hotswap padding).</summary>
    public int TensorRank => (int)A.shape[0];

    /// <summary>PEFT's <c>r[name]</c>: the rank used in the scaling <c>alpha / r</c>.</summary>
    public int ConfiguredRank { get; internal set; }

    /// <summary>PEFT's <c>lora_alpha[name]</c>.</summary>
    public double Alpha { get; internal set; }

    /// <summary>rsLoRA: the scaling is <c>alpha / sqrt(r)</c> instead of <c>alpha / r</c>.</summary>
    public bool UseRsLora { get; }

    /// <summary>PEFT's <c>scaling[name]</c>: adapter weight × alpha / r (or / √r with rsLoRA).</summary>
    public double Scaling { get; private set; }

    /// <summary>
    /// After <c>enable_lora_hotswap</c> prepared the layer, the scaling also lives in this 0-dim tensor (PEFT keeps
    /// scalings as tensors then); it is updated in place and never reallocated. Null otherwise.
    /// </summary>
    public Tensor? ScalingTensor { get; private set; }

    /// <summary>Raised by every change of a value that the forward pass depends on.</summary>
    internal int Version { get; private set; }

    /// <summary>PEFT's <c>set_scale</c> formula: <paramref name="weight"/> × alpha / r (or / √r).</summary>
    internal double ScalingFor(double weight) =>
        UseRsLora ? weight * Alpha / Math.Sqrt(ConfiguredRank) : weight * Alpha / ConfiguredRank;

    internal void SetScaling(double scaling)
    {
        if (Scaling.Equals(scaling)) return;
        Scaling = scaling;
        ScalingTensor?.fill_(scaling);
        Version++;
    }

    internal void Touch() => Version++;

    internal void ConvertScalingToTensor()
    {
        if (ScalingTensor is not null) return;
        ScalingTensor = torch.tensor(Scaling, ScalarType.Float64, A.device).DetachFromDisposeScope();
    }

    internal void ReplaceTensors(Tensor down, Tensor up)
    {
        if (!ReferenceEquals(down, A)) A.Dispose();
        if (!ReferenceEquals(up, B)) B.Dispose();
        A = down;
        B = up;
        Version++;
    }

    internal void MoveTo(Device? device, ScalarType? dtype)
    {
        Tensor Move(Tensor t)
        {
            if (dtype is ScalarType d && device is not null) return t.to(d, device);
            if (dtype is ScalarType d2) return t.to(d2);
            return device is not null ? t.to(device) : t;
        }

        var down = Move(A);
        var up = Move(B);
        if (!ReferenceEquals(down, A)) down.DetachFromDisposeScope();
        if (!ReferenceEquals(up, B)) up.DetachFromDisposeScope();
        ReplaceTensors(down, up);
        if (ScalingTensor is not null && device is not null && ScalingTensor.device.ToString() != device.ToString())
        {
            var moved = ScalingTensor.to(device).DetachFromDisposeScope();
            ScalingTensor.Dispose();
            ScalingTensor = moved;
        }
    }

    internal void Dispose()
    {
        A.Dispose();
        B.Dispose();
        ScalingTensor?.Dispose();
    }
}
