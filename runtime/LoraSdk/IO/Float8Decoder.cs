using System;
using LoraSdk.Core;

namespace LoraSdk.IO;

/// <summary>Decodes the two safetensors 8-bit float formats to float32 (TorchSharp has no float8 types).</summary>
internal static class Float8Decoder
{
    private static readonly float[] E4M3 = BuildTable(exponentBits: 4, mantissaBits: 3, bias: 7, ieeeSpecials: false);
    private static readonly float[] E5M2 = BuildTable(exponentBits: 5, mantissaBits: 2, bias: 15, ieeeSpecials: true);

    public static void Decode(SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        float[] table = dtype == SafetensorsDType.F8_E4M3 ? E4M3 : dtype == SafetensorsDType.F8_E5M2 ? E5M2
            : throw new ArgumentOutOfRangeException(nameof(dtype));
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }

    // E4M3 is the "fn" variant (no infinities; S.1111.111 is NaN), E5M2 follows IEEE (infinities and NaNs).
    private static float[] BuildTable(int exponentBits, int mantissaBits, int bias, bool ieeeSpecials)
    {
        var table = new float[256];
        int expMax = (1 << exponentBits) - 1, manMax = (1 << mantissaBits) - 1;
        for (int b = 0; b < 256; b++)
        {
            int sign = b >> 7, exp = (b >> mantissaBits) & expMax, man = b & manMax;
            double value;
            if (ieeeSpecials && exp == expMax) value = man == 0 ? double.PositiveInfinity : double.NaN;
            else if (!ieeeSpecials && exp == expMax && man == manMax) value = double.NaN;
            else if (exp == 0) value = man / (double)(1 << mantissaBits) * Math.Pow(2, 1 - bias);
            else value = (1 + man / (double)(1 << mantissaBits)) * Math.Pow(2, exp - bias);
            table[b] = (float)(sign == 1 ? -value : value);
        }
        return table;
    }
}
