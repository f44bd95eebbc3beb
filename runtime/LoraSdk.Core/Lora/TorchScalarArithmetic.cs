using System;

namespace LoraSdk.Core;

/// <summary>
/// Host-side replicas of the few scalar tensor operations diffusers' Flux conversion does on alpha tensors, so folded
/// scales equal the values torch computes: a division in the tensor's dtype (float32 arithmetic, then rounded to
/// bfloat16 / float16 to nearest-even for those dtypes; float64 stays double).
/// </summary>
internal static class TorchScalarArithmetic
{
    /// <summary><c>tensor(value, dtype) / divisor</c> as torch computes it (integer dtypes divide in float32, torch's default dtype).</summary>
    public static double Divide(double value, int divisor, SafetensorsDType dtype)
    {
        if (dtype == SafetensorsDType.F64) return value / divisor;
        float q = (float)value / divisor;
        return dtype switch
        {
            SafetensorsDType.BF16 => ToBFloat16(q),
            SafetensorsDType.F16 => ToHalf(q),
            _ => q,
        };
    }

    /// <summary>Rounds a float to the nearest bfloat16 (ties to even), as a float.</summary>
    public static float ToBFloat16(float v)
    {
        if (float.IsNaN(v) || float.IsInfinity(v)) return v;
        uint bits = Bits(v);
        uint rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
        return FromBits(rounded);
    }

    /// <summary>Rounds a float to the nearest IEEE half (ties to even; overflow to infinity), as a float.</summary>
    public static float ToHalf(float v)
    {
        if (float.IsNaN(v) || float.IsInfinity(v) || v == 0) return v;
        uint bits = Bits(v);
        int exponent = (int)((bits >> 23) & 0xFF) - 127;
        if (exponent > 15) return v > 0 ? float.PositiveInfinity : float.NegativeInfinity;
        // Keep 10 mantissa bits in the normal range; below 2^-14 the last kept bit is worth 2^-24 (subnormals).
        int drop = 13 + Math.Max(0, -14 - exponent);
        if (drop > 24) return v > 0 ? 0f : -0f;
        uint magnitude = (bits & 0x7FFFFFu) | 0x800000u; // with the implicit bit
        uint sign = bits & 0x80000000u;
        uint mask = (1u << drop) - 1;
        uint half = 1u << (drop - 1);
        uint rest = magnitude & mask;
        magnitude &= ~mask;
        if (rest > half || (rest == half && ((magnitude >> drop) & 1u) != 0)) magnitude += 1u << drop;
        double result = magnitude * Math.Pow(2, exponent - 23);
        if (result > 65504) return v > 0 ? float.PositiveInfinity : float.NegativeInfinity;
        return sign != 0 ? (float)-result : (float)result;
    }

    private static uint Bits(float v) => BitConverter.ToUInt32(BitConverter.GetBytes(v), 0);

    private static float FromBits(uint bits) => BitConverter.ToSingle(BitConverter.GetBytes(bits), 0);
}
