using System;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// One module of an in-memory adapter (see <see cref="LoraAdapterDefinition"/>): its module path, lora_A (down),
/// lora_B (up), rank and alpha, and for DoRA its magnitude vector. The tensors are read (copied into the layer's dtype and device), never kept or disposed.
/// </summary>
public sealed class LoraModuleTensors
{
    /// <summary>Creates the module entry.</summary>
    /// <param name="modulePath">Module path in the component (e.g. <c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c>).</param>
    /// <param name="a">lora_A: (rank, in) or (rank, in, kh, kw).</param>
    /// <param name="b">lora_B: (out, rank) or (out, rank, 1, 1).</param>
    /// <param name="alpha">lora_alpha of this module (scaling = alpha / rank, or alpha / √rank with rsLoRA).</param>
    /// <param name="rank">The configured rank r (defaults to lora_A's first dimension).</param>
    /// <param name="magnitude">A DoRA magnitude vector (out), which makes the module DoRA; null for plain LoRA.</param>
    public LoraModuleTensors(string modulePath, Tensor a, Tensor b, double alpha, int? rank = null, Tensor? magnitude = null)
    {
        ModulePath = modulePath ?? throw new ArgumentNullException(nameof(modulePath));
        A = a ?? throw new ArgumentNullException(nameof(a));
        B = b ?? throw new ArgumentNullException(nameof(b));
        Alpha = alpha;
        Rank = rank ?? (int)a.shape[0];
        Magnitude = magnitude;
    }

    /// <summary>Module path.</summary>
    public string ModulePath { get; }

    /// <summary>lora_A.</summary>
    public Tensor A { get; }

    /// <summary>lora_B.</summary>
    public Tensor B { get; }

    /// <summary>lora_alpha.</summary>
    public double Alpha { get; }

    /// <summary>Configured rank.</summary>
    public int Rank { get; }

    /// <summary>The DoRA magnitude vector, or null for plain LoRA.</summary>
    public Tensor? Magnitude { get; }
}
