using static TorchSharp.torch;

namespace LoraSdk.Merging;

/// <summary>The merged adapter's factors on one layer; owned by the <see cref="LoraMergeResult"/> that holds it.</summary>
public sealed class LoraMergedLayer
{
    internal LoraMergedLayer(string name, Tensor a, Tensor b)
    {
        Name = name;
        A = a;
        B = b;
    }

    /// <summary>Module path.</summary>
    public string Name { get; }

    /// <summary>
    /// Merged lora_A: (rank, in) or (rank, in, kh, kw), in the first source's dtype and device. For the linear family
    /// the rank is the sources' rank on this layer (which differs from <see cref="LoraMergeResult.Rank"/> only where a
    /// rank_pattern gave the layer another rank; PEFT behaves the same); cat and the svd types always use the merged rank.
    /// </summary>
    public Tensor A { get; }

    /// <summary>Merged lora_B: (out, rank) or (out, rank, 1, 1).</summary>
    public Tensor B { get; }
}
