using LoraSdk.Layers;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>Test shorthand: the A/B factors of a plain LoRA adapter (fails the cast, and so the test, for other variants).</summary>
internal static class AdapterWeightsExtensions
{
    public static LowRankWeights LowRank(this AdapterWeights weights) => (LowRankWeights)weights;
}
