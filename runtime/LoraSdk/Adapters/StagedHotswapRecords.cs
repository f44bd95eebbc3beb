using LoraSdk.Layers;

namespace LoraSdk.Adapters;

/// <summary>
/// The host records a staged hotswap's one-copy apply writes, resolved at staging: per layer with new factors its
/// weights, rank, alpha, scaling after the swap, site and source path; per zero-filled layer its weights and site.
/// </summary>
internal sealed class StagedHotswapRecords
{
    public StagedHotswapRecords(
        (LowRankWeights Weights, LayerAdapters Core, int Rank, double Alpha, double Scaling, LayerSite Site, string SourcePath)[] modules,
        (LowRankWeights Weights, LayerAdapters Core, LayerSite Site)[] zeroFill)
    {
        Modules = modules;
        ZeroFill = zeroFill;
    }

    public (LowRankWeights Weights, LayerAdapters Core, int Rank, double Alpha, double Scaling, LayerSite Site, string SourcePath)[] Modules { get; }

    public (LowRankWeights Weights, LayerAdapters Core, LayerSite Site)[] ZeroFill { get; }
}
