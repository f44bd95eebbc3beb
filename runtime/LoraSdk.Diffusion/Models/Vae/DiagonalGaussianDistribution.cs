using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' <c>DiagonalGaussianDistribution</c> over VAE latents (log-variance clamped to [-30, 20]).</summary>
public sealed class DiagonalGaussianDistribution : IDisposable
{
    /// <summary>Splits (B, 2·C, h, w) moments into mean and log-variance (takes ownership of nothing).</summary>
    public DiagonalGaussianDistribution(Tensor moments)
    {
        using var scope = NewDisposeScope();
        Tensor[] parts = moments.chunk(2, 1);
        Mean = parts[0].contiguous().MoveToOuterDisposeScope();
        LogVar = parts[1].clamp(-30.0, 20.0).MoveToOuterDisposeScope();
        Std = exp(LogVar * 0.5).MoveToOuterDisposeScope();
    }

    /// <summary>The mean (= <c>mode()</c>).</summary>
    public Tensor Mean { get; }

    /// <summary>The clamped log-variance.</summary>
    public Tensor LogVar { get; }

    /// <summary>exp(0.5 · log-variance).</summary>
    public Tensor Std { get; }

    /// <summary>Draws <c>mean + std · randn</c> with <paramref name="generator"/> (diffusers' <c>sample(generator)</c>).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        Tensor noise = randn(Mean.shape, Mean.dtype, Mean.device, generator: generator);
        return (Mean + Std * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The mode (a copy of the mean).</summary>
    public Tensor Mode() => Mean.clone();

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
