using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>The dtype and device a model's parameters are created with.</summary>
/// <param name="DType">Parameter dtype (float32, bfloat16, float16).</param>
/// <param name="Device">Parameter device (cpu, cuda).</param>
public readonly record struct ModelPlacement(ScalarType DType, Device Device)
{
    /// <summary>float32 on the CPU.</summary>
    public static ModelPlacement CpuFloat32 => new(ScalarType.Float32, CPU);
}
