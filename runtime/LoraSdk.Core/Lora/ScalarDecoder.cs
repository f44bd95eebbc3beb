using System;

namespace LoraSdk.Core;

/// <summary>Decodes one little-endian element of any safetensors dtype to a double (for <c>.alpha</c> scalars).</summary>
public static class ScalarDecoder
{
    /// <summary>Decodes the element at <paramref name="offset"/> of <paramref name="bytes"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than <see cref="SafetensorsDTypes.SizeOf"/> bytes are available.</exception>
    public static double ToDouble(byte[] bytes, int offset, SafetensorsDType dtype)
    {
        if (bytes == null) throw new ArgumentNullException(nameof(bytes));
        int size = SafetensorsDTypes.SizeOf(dtype);
        if (offset < 0 || bytes.Length - offset < size) throw new ArgumentException($"need {size} bytes for a {dtype} element", nameof(bytes));
        ulong raw = 0;
        for (int i = size - 1; i >= 0; i--) raw = (raw << 8) | bytes[offset + i];
        switch (dtype)
        {
            case SafetensorsDType.F64: return BitConverter.Int64BitsToDouble((long)raw);
            case SafetensorsDType.F32: return SingleFromBits((uint)raw);
            case SafetensorsDType.F16: return HalfToDouble((ushort)raw);
            case SafetensorsDType.BF16: return SingleFromBits((uint)raw << 16);
            case SafetensorsDType.I64: return (long)raw;
            case SafetensorsDType.I32: return (int)(uint)raw;
            case SafetensorsDType.I16: return (short)(ushort)raw;
            case SafetensorsDType.I8: return (sbyte)(byte)raw;
            case SafetensorsDType.U8: return (byte)raw;
            case SafetensorsDType.BOOL: return raw != 0 ? 1 : 0;
            case SafetensorsDType.F8_E4M3: return Float8E4M3ToDouble((byte)raw);
            case SafetensorsDType.F8_E5M2: return HalfToDouble((ushort)(raw << 8));
            default: throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    private static double SingleFromBits(uint bits) => BitConverter.ToSingle(BitConverter.GetBytes(bits), 0);

    private static double HalfToDouble(ushort h)
    {
        int sign = (h >> 15) != 0 ? -1 : 1;
        int exponent = (h >> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) return mantissa == 0 ? sign * double.PositiveInfinity : double.NaN;
        if (exponent == 0) return sign * mantissa * Math.Pow(2, -24);
        return sign * (1 + mantissa / 1024.0) * Math.Pow(2, exponent - 15);
    }

    /// <summary>float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN.</summary>
    private static double Float8E4M3ToDouble(byte b)
    {
        int sign = (b >> 7) != 0 ? -1 : 1;
        int exponent = (b >> 3) & 0xF;
        int mantissa = b & 0x7;
        if (exponent == 0xF && mantissa == 0x7) return double.NaN;
        if (exponent == 0) return sign * mantissa * Math.Pow(2, -9);
        return sign * (1 + mantissa / 8.0) * Math.Pow(2, exponent - 7);
    }
}
