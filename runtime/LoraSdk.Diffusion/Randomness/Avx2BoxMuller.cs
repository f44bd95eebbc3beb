using System;

namespace LoraSdk.Diffusion.Randomness;

/// <summary>
/// libtorch's AVX2 <c>normal_fill</c> for float32, lane by lane in managed code: all uniforms are drawn first, then
/// every block of 16 becomes 16 normals (lanes j and j+8 share one radius and angle), and a length that is not a
/// multiple of 16 redraws the last 16 uniforms and transforms them again. The logarithm and the sine/cosine are the
/// Cephes-style single-precision approximations that kernel evaluates (range reduction, minimax polynomials, sign
/// and polynomial selection by bit masks), written as scalar float operations in the kernel's order, so every lane
/// rounds exactly as the vector instruction does. The compiler that built libtorch contracts each multiply that feeds
/// an add into one fused multiply-add (GCC's default <c>-ffp-contract=fast</c> applies to the vector intrinsics too);
/// .NET never fuses on its own, so every fusion is spelled out with <see cref="MathF.FusedMultiplyAdd(float, float, float)"/>.
/// Which product is fused where an add has two (the log's <c>y·z + e·q1</c>, the cosine's <c>y·z − z/2</c>) was
/// established against libtorch 2.10's AVX2 kernel: over 2^20 draws every bit agrees.
/// </summary>
internal static class Avx2BoxMuller
{
    /// <summary>Elements transformed together.</summary>
    public const int ChunkSize = 16;

    private const float TwoPi = (float)(2.0 * Math.PI);

    // The constants are double literals rounded to float, as the kernel's tables store them.
    // Logarithm: x = m·2^e with m in [0.5, 1), polynomial in (m − 1) (or 2m − 1 below sqrt(1/2)).
    private const float SqrtHalf = (float)0.707106781186547524;
    private const float LogP0 = (float)7.0376836292E-2, LogP1 = (float)-1.1514610310E-1, LogP2 = (float)1.1676998740E-1;
    private const float LogP3 = (float)-1.2420140846E-1, LogP4 = (float)1.4249322787E-1, LogP5 = (float)-1.6668057665E-1;
    private const float LogP6 = (float)2.0000714765E-1, LogP7 = (float)-2.4999993993E-1, LogP8 = (float)3.3333331174E-1;
    private const float LogQ1 = (float)-2.12194440e-4, LogQ2 = (float)0.693359375;

    // Sine/cosine: reduction by multiples of pi/4 in three parts, then one of two polynomials.
    private const float FourOverPi = (float)1.27323954473516;
    private const float MinusDp1 = (float)-0.78515625, MinusDp2 = (float)-2.4187564849853515625e-4, MinusDp3 = (float)-3.77489497744594108e-8;
    private const float SinP0 = (float)-1.9515295891E-4, SinP1 = (float)8.3321608736E-3, SinP2 = (float)-1.6666654611E-1;
    private const float CosP0 = (float)2.443315711809948E-005, CosP1 = (float)-1.388731625493765E-003, CosP2 = (float)4.166664568298827E-002;

    /// <summary>Fills <paramref name="data"/> (at least 16 values) with normals drawn from <paramref name="random"/>.</summary>
    public static void Fill(float[] data, Mt19937 random, float mean, float std)
    {
        int size = data.Length;
        if (size < ChunkSize) throw new ArgumentException("the AVX2 path needs at least 16 values", nameof(data));
        for (int i = 0; i < size; i++) data[i] = random.NextUnitFloat();
        for (int i = 0; i + ChunkSize <= size; i += ChunkSize) TransformChunk(data, i, mean, std);
        if (size % ChunkSize != 0)
        {
            int start = size - ChunkSize;
            for (int i = 0; i < ChunkSize; i++) data[start + i] = random.NextUnitFloat();
            TransformChunk(data, start, mean, std);
        }
    }

    private static void TransformChunk(float[] data, int offset, float mean, float std)
    {
        for (int lane = 0; lane < 8; lane++)
        {
            float u1 = 1f - data[offset + lane];
            float u2 = data[offset + lane + 8];
            float radius = MathF.Sqrt(-2f * Log(u1));
            float theta = TwoPi * u2;
            SinCos(theta, out float sin, out float cos);
            data[offset + lane] = MathF.FusedMultiplyAdd(radius * cos, std, mean);
            data[offset + lane + 8] = MathF.FusedMultiplyAdd(radius * sin, std, mean);
        }
    }

    /// <summary>Natural logarithm, NaN for x ≤ 0.</summary>
    internal static float Log(float x)
    {
        bool invalid = x <= 0f;
        const int MinNormalBits = 0x00800000;
        if (!(x > BitConverter.Int32BitsToSingle(MinNormalBits))) x = BitConverter.Int32BitsToSingle(MinNormalBits);
        int bits = BitConverter.SingleToInt32Bits(x);
        int exponent = (int)((uint)bits >> 23) - 0x7f;
        x = BitConverter.Int32BitsToSingle((bits & ~0x7f800000) | BitConverter.SingleToInt32Bits(0.5f));
        float e = exponent;
        e = e + 1f;
        bool below = x < SqrtHalf;
        float extra = below ? x : 0f;
        x = x - 1f;
        e = e - (below ? 1f : 0f);
        x = x + extra;

        float z = x * x;
        float y = LogP0;
        y = MathF.FusedMultiplyAdd(y, x, LogP1);
        y = MathF.FusedMultiplyAdd(y, x, LogP2);
        y = MathF.FusedMultiplyAdd(y, x, LogP3);
        y = MathF.FusedMultiplyAdd(y, x, LogP4);
        y = MathF.FusedMultiplyAdd(y, x, LogP5);
        y = MathF.FusedMultiplyAdd(y, x, LogP6);
        y = MathF.FusedMultiplyAdd(y, x, LogP7);
        y = MathF.FusedMultiplyAdd(y, x, LogP8);
        y = y * x;
        y = MathF.FusedMultiplyAdd(y, z, e * LogQ1);
        y = MathF.FusedMultiplyAdd(-z, 0.5f, y);
        x = x + y;
        x = MathF.FusedMultiplyAdd(e, LogQ2, x);
        return invalid ? float.NaN : x;
    }

    /// <summary>Sine and cosine of one angle (accurate for |x| below 8192).</summary>
    internal static void SinCos(float x, out float sin, out float cos)
    {
        int signSin = BitConverter.SingleToInt32Bits(x) & unchecked((int)0x80000000);
        x = MathF.Abs(x);
        float y = x * FourOverPi;
        int j = (int)y; // truncation, as cvttps
        j = (j + 1) & ~1;
        y = j;
        int swapSignSin = (j & 4) << 29;
        bool firstPolynomialForSin = (j & 2) == 0;
        int signCos = (~(j - 2) & 4) << 29;

        x = MathF.FusedMultiplyAdd(y, MinusDp1, x);
        x = MathF.FusedMultiplyAdd(y, MinusDp2, x);
        x = MathF.FusedMultiplyAdd(y, MinusDp3, x);
        signSin ^= swapSignSin;

        float z = x * x;
        float c = MathF.FusedMultiplyAdd(CosP0, z, CosP1);
        c = MathF.FusedMultiplyAdd(c, z, CosP2);
        c = c * z;
        c = MathF.FusedMultiplyAdd(c, z, -(z * 0.5f));
        c = c + 1f;

        float s = MathF.FusedMultiplyAdd(SinP0, z, SinP1);
        s = MathF.FusedMultiplyAdd(s, z, SinP2);
        s = s * z;
        s = MathF.FusedMultiplyAdd(s, x, x);

        // Lanes select with bit masks: the unselected value becomes +0, and the leftover of each polynomial goes to
        // the other result.
        float sinFromS = firstPolynomialForSin ? s : 0f;
        float sinFromC = firstPolynomialForSin ? 0f : c;
        float restS = s - sinFromS;
        float restC = c - sinFromC;
        float sinValue = sinFromC + sinFromS;
        float cosValue = restC + restS;
        sin = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(sinValue) ^ signSin);
        cos = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(cosValue) ^ signCos);
    }
}
