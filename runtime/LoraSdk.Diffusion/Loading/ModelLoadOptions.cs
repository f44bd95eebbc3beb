using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Loading;

/// <summary>How a component or pipeline is loaded.</summary>
public sealed class ModelLoadOptions
{
    /// <summary>Parameter dtype of every component (default float32; stored float16/bfloat16 weights are converted).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Parameter device (default CPU).</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Weight file variant to prefer, e.g. <c>fp16</c> for <c>diffusion_pytorch_model.fp16.safetensors</c>; null for none.</summary>
    public string? Variant { get; init; }

    /// <summary>The default: float32 on the CPU.</summary>
    public static ModelLoadOptions Default { get; } = new();
}
