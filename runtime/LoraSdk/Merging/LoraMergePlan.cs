using LoraSdk.Core;
namespace LoraSdk.Merging;

/// <summary>
/// What a merge will produce, decided before any tensor is touched (PEFT's <c>_check_add_weighted_adapter</c> and the
/// merged config: <c>r = lora_alpha = new rank</c>, <c>use_rslora</c> copied from the first adapter).
/// </summary>
public sealed class LoraMergePlan
{
    internal LoraMergePlan(CombinationType requested, CombinationType effective, int rank, bool useRsLora)
    {
        RequestedCombinationType = requested;
        CombinationType = effective;
        Rank = rank;
        UseRsLora = useRsLora;
    }

    /// <summary>The combination type asked for.</summary>
    public CombinationType RequestedCombinationType { get; }

    /// <summary>The type actually used: PEFT switches to <c>linear</c> when only one adapter is given.</summary>
    public CombinationType CombinationType { get; }

    /// <summary>The merged adapter's rank <c>r</c>.</summary>
    public int Rank { get; }

    /// <summary>The merged adapter's <c>lora_alpha</c> (PEFT sets it equal to the rank).</summary>
    public double Alpha => Rank;

    /// <summary>The merged adapter's <c>use_rslora</c> (copied from the first source adapter, as PEFT does).</summary>
    public bool UseRsLora { get; }

    /// <summary>The merged adapter's scaling: alpha/r = 1, or alpha/√r = √r with rsLoRA.</summary>
    public double Scaling => UseRsLora ? Alpha / System.Math.Sqrt(Rank) : Alpha / Rank;
}
