using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>Activation functions by the names diffusers and transformers use in configs.</summary>
public static class Activations
{
    /// <summary>
    /// Returns the activation named <paramref name="name"/>: <c>silu</c>/<c>swish</c>, <c>gelu</c> (exact),
    /// <c>gelu_new</c>/<c>gelu_pytorch_tanh</c> (tanh approximation), <c>quick_gelu</c> (x·σ(1.702x)), <c>relu</c>,
    /// <c>mish</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">Unknown name.</exception>
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        "silu" or "swish" => x => nn.functional.silu(x),
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "quick_gelu" => QuickGelu,
        "relu" => x => nn.functional.relu(x),
        "mish" => x => nn.functional.mish(x),
        _ => throw new NotSupportedException($"Unsupported activation function: {name}"),
    };

    /// <summary>transformers' <c>quick_gelu</c>: <c>x * sigmoid(1.702 * x)</c>.</summary>
    public static Tensor QuickGelu(Tensor x)
    {
        using var scaled = x * 1.702;
        using var gate = torch.sigmoid(scaled);
        return x * gate;
    }
}
