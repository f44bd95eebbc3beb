using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>FluxPosEmbed</c> (theta 10000) and <c>apply_rotary_emb</c>: per position axis, frequencies
/// <c>1 / theta^(2i/d)</c> in float64, the (N, d) cos/sin tables interleaved (<c>repeat_interleave_real</c>) and
/// concatenated over the axes, then rounded to float32, exactly as diffusers computes them.
/// </summary>
public sealed class FluxRotaryEmbedding
{
    private readonly IReadOnlyList<int> _axesDims;
    private readonly double _theta;

    /// <summary>Creates the embedding for the given axis widths.</summary>
    public FluxRotaryEmbedding(IReadOnlyList<int> axesDims, double theta = 10000)
    {
        _axesDims = axesDims.ToArray();
        _theta = theta;
    }

    /// <summary>The (N, head_dim) float32 cos and sin tables of (N, axes) position ids.</summary>
    public (Tensor Cos, Tensor Sin) Forward(Tensor ids)
    {
        if (ids.Dimensions != 2 || ids.shape[1] != _axesDims.Count)
            throw new ArgumentException($"ids must be (N, {_axesDims.Count}), got [{string.Join(", ", ids.shape)}]", nameof(ids));
        using var scope = NewDisposeScope();
        Tensor pos = ids.to_type(ScalarType.Float32);
        var cosParts = new List<Tensor>();
        var sinParts = new List<Tensor>();
        for (int i = 0; i < _axesDims.Count; i++)
        {
            int dim = _axesDims[i];
            Tensor exponent = arange(0, dim, 2, ScalarType.Float64, pos.device) / dim;
            // theta as a 0-d tensor filled on the ids' device (torch::tensor would copy it from the host, a
            // synchronous copy that invalidates a CUDA graph capture); the same float64 value, the same pow.
            Tensor freqs = 1.0 / pow(full(Array.Empty<long>(), _theta, ScalarType.Float64, pos.device), exponent);
            Tensor angles = outer(pos.select(1, i).to_type(ScalarType.Float64), freqs);
            cosParts.Add(angles.cos().repeat_interleave(2, 1).to_type(ScalarType.Float32));
            sinParts.Add(angles.sin().repeat_interleave(2, 1).to_type(ScalarType.Float32));
        }
        return (cat(cosParts, -1).MoveToOuterDisposeScope(), cat(sinParts, -1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Rotates (B, S, H, D) <paramref name="x"/> (sequence on dimension 1) by the (S, D) tables: pairs
    /// (x₂ᵢ, x₂ᵢ₊₁) become (x₂ᵢ·cos − x₂ᵢ₊₁·sin, x₂ᵢ₊₁·cos + x₂ᵢ·sin), computed in float32.
    /// </summary>
    public static Tensor Apply(Tensor x, (Tensor Cos, Tensor Sin) rope)
    {
        using var scope = NewDisposeScope();
        Tensor cos = rope.Cos.unsqueeze(0).unsqueeze(2).to(x.device);
        Tensor sin = rope.Sin.unsqueeze(0).unsqueeze(2).to(x.device);
        long[] pairShape = x.shape.Take((int)x.Dimensions - 1).Concat(new long[] { -1, 2 }).ToArray();
        Tensor[] parts = x.reshape(pairShape).unbind(-1);
        Tensor rotated = stack(new[] { -parts[1], parts[0] }, -1).flatten(3);
        Tensor output = x.to_type(ScalarType.Float32) * cos + rotated.to_type(ScalarType.Float32) * sin;
        return output.to_type(x.dtype).MoveToOuterDisposeScope();
    }
}
