using System;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>How the benches fill a model they build with random weights (the same rule diffusers_bench.py uses).</summary>
internal static class RandomWeights
{
    /// <summary>
    /// On the model's device, parameter by parameter (TorchSharp's Generator is CPU-only: the device's default generator
    /// is seeded instead): matrices and kernels N(0, 0.02²), norm weights 1, everything else 0.
    /// </summary>
    public static void Fill(nn.Module model)
    {
        using var noGrad = no_grad();
        manual_seed(1234);
        foreach (var (name, p) in model.named_parameters())
        {
            if (p.Dimensions >= 2) p.normal_(0, 0.02);
            else if (name.Contains("norm", StringComparison.Ordinal)) p.fill_(1.0);
            else p.zero_();
        }
    }
}
