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

    /// <summary>Merged lora_A: (rank, in) or (rank, in, kh, kw), in the first source's dtype and device.</summary>
    public Tensor A { get; }

    /// <summary>Merged lora_B: (out, rank) or (out, rank, 1, 1).</summary>
    public Tensor B { get; }
}
