using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;
using LoraSdk.Core;

namespace LoraSdk.Merging;

/// <summary>
/// The random stream of the DARE types: a private libtorch CPU generator seeded like <c>torch.manual_seed(seed)</c>
/// (same Mersenne Twister state), advanced exactly as PEFT's <c>add_weighted_adapter</c> advances torch's default CPU
/// generator: first the initialisation of the merged adapter's new modules (in module order), then one
/// <c>torch.bernoulli(torch.full_like(t, density))</c> per pruned task tensor. Masks are drawn on CPU and moved to
/// the task tensor's device.
/// </summary>
internal sealed class DareRandomStream : IDisposable
{
    private readonly Generator _generator;

    public DareRandomStream(long seed)
    {
        // torch.manual_seed(seed) accepts negative seeds and wraps them to uint64, as this cast does.
        _generator = new Generator(unchecked((ulong)seed), CPU);
    }

    /// <summary>
    /// Replays the random draws of PEFT's <c>inject_adapter</c> for the merged adapter: for each layer
    /// <c>nn.Linear</c>/<c>nn.Conv2d</c> default init (Kaiming-uniform) of the new lora_A, then of the new lora_B,
    /// then the <c>init_lora_weights</c> re-initialisation of lora_A.
    /// </summary>
    public void ReplayAdapterInitialisation(IEnumerable<(long[] AShape, long[] BShape)> layers, MergedAdapterInitialization init)
    {
        foreach (var (aShape, bShape) in layers)
        {
            using (var scope = NewDisposeScope())
            {
                // Only the number and kind of draws matter: float32 uniform_ draws one 32-bit value per element.
                var a = empty(aShape, ScalarType.Float32, CPU);
                a.uniform_(-1, 1, _generator);
                var b = empty(bShape, ScalarType.Float32, CPU);
                b.uniform_(-1, 1, _generator);
                switch (init)
                {
                    case MergedAdapterInitialization.KaimingUniform:
                        a.uniform_(-1, 1, _generator);
                        break;
                    case MergedAdapterInitialization.Gaussian:
                        a.normal_(0, 1, _generator);
                        break;
                }
            }
        }
    }

    /// <summary><c>torch.bernoulli(torch.full_like(like, density))</c> drawn on CPU, returned on <paramref name="like"/>'s device.</summary>
    public Tensor BernoulliMaskLike(Tensor like, double density)
    {
        using var p = full(like.shape, density, like.dtype, CPU);
        var mask = bernoulli(p, _generator);
        if (like.device_type == DeviceType.CPU) return mask;
        using (mask) return mask.to(like.device);
    }

    public void Dispose() => _generator.Dispose();
}
