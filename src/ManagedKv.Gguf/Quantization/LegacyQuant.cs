namespace ManagedKv.Gguf;

/// <summary>
/// The code searches and integer dot shared by the 32-value formats (Q4_0/Q5_0 symmetric, Q4_1/Q5_1 with
/// a minimum, Q8_0/Q8_1), written once with the exact C conversions of ggml-quants.c.
/// </summary>
internal static class LegacyQuant
{
    /// <summary>
    /// quantize_row_q4_0_ref / q5_0_ref: max is the signed value of largest magnitude (first one wins),
    /// d = max/−half, codes = min(2·half − 1, (int8)trunc(x·(1/d) + half + 0.5)).
    /// </summary>
    /// <returns>The scale d (before f16 rounding).</returns>
    public static float Symmetric(ReadOnlySpan<float> x, Span<byte> codes, int half)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < x.Length; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        float d = max / -half;
        float id = d != 0 ? 1.0f / d : 0.0f; // `d ? …` in C: NaN counts as true, as here
        float offset = half + 0.5f;
        for (int j = 0; j < x.Length; j++)
            codes[j] = (byte)Math.Min(2 * half - 1, (int)(sbyte)QuantMath.TruncToInt32(x[j] * id + offset));
        return d;
    }

    /// <summary>
    /// quantize_row_q4_1_ref / q5_1_ref: d = (max − min)/nmax, codes = trunc((x − min)·(1/d) + 0.5), for Q4_1
    /// converted to int8 and clamped to nmax, for Q5_1 converted straight to uint8 (no clamp).
    /// </summary>
    /// <returns>The scale d (before f16 rounding).</returns>
    public static float WithMinimum(ReadOnlySpan<float> x, Span<byte> codes, int nmax, bool clampAsInt8, out float min)
    {
        min = float.MaxValue;
        float max = -float.MaxValue;
        for (int j = 0; j < x.Length; j++)
        {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        float d = (max - min) / nmax;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < x.Length; j++)
        {
            int t = QuantMath.TruncToInt32((x[j] - min) * id + 0.5f);
            codes[j] = clampAsInt8 ? (byte)Math.Min(nmax, (int)(sbyte)t) : (byte)t;
        }
        return d;
    }

    /// <summary>
    /// quantize_row_q8_0_ref / q8_1_ref: d = amax/127 (amax via C's MAX, so a NaN is skipped unless last),
    /// codes = (int8)roundf(x·(1/d)) — halves away from zero.
    /// </summary>
    /// <returns>The scale d (before f16 rounding).</returns>
    public static float Q8Reference(ReadOnlySpan<float> x, Span<byte> codes, out int sum)
    {
        float amax = 0;
        for (int j = 0; j < x.Length; j++) amax = QuantMath.CMax(amax, MathF.Abs(x[j]));
        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            sbyte q = (sbyte)QuantMath.TruncToInt32(QuantMath.RoundHalfAwayFromZero(x[j] * id));
            codes[j] = (byte)q;
            sum += q;
        }
        return d;
    }

    /// <summary>
    /// The AVX sequence of ggml-cpu's x86 quantize_row_q8_0/q8_1: maxps reduction of |x|, d = amax/127,
    /// multiplier 127/amax, _mm256_round_ps (nearest even), cvtps2dq, saturating packs to int8.
    /// </summary>
    /// <param name="x">32 values.</param>
    /// <param name="codes">Receives 32 codes.</param>
    /// <param name="sum">Sum of the int32 lanes before saturation (wrapping), as hsum_i32_8 computes it.</param>
    /// <returns>The scale d (before f16 rounding).</returns>
    public static float Q8X86(ReadOnlySpan<float> x, Span<byte> codes, out int sum)
    {
        float maxScalar = X86Reduce.MaxAbs32(x);
        float d = maxScalar / 127f;
        float id = maxScalar != 0.0f ? 127f / maxScalar : 0.0f;
        sum = 0;
        for (int j = 0; j < 32; ++j)
        {
            int q = QuantMath.RoundToInt32(x[j] * id);
            sum += q;
            codes[j] = (byte)QuantMath.SaturateToInt8(q);
        }
        return d;
    }

    /// <summary>dequantize_row_q8_0 (and the same x = d·q for Q8_1 blocks): y = q·d.</summary>
    public static void DequantizeQ8(ReadOnlySpan<byte> src, Span<float> dst, int blockBytes, int offsetD, int offsetQs)
    {
        int nb = Rows.Check(src, dst.Length, 32, blockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * blockBytes, blockBytes);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Fp16.Read(b, offsetD);
            for (int j = 0; j < 32; ++j) y[j] = (sbyte)b[offsetQs + j] * d;
        }
    }

    /// <summary>Packs 32 codes as qs[j] = code[j] | code[j+16] &lt;&lt; 4 (low 4 bits of each).</summary>
    public static void PackNibbles(ReadOnlySpan<byte> codes, Span<byte> qs)
    {
        for (int j = 0; j < 16; ++j) qs[j] = (byte)((codes[j] & 0x0F) | ((codes[j + 16] & 0x0F) << 4));
    }

    /// <summary>Bit 4 of each of 32 codes, bit j for code j (the qh word of Q5_0/Q5_1).</summary>
    public static uint HighBits(ReadOnlySpan<byte> codes)
    {
        uint qh = 0;
        for (int j = 0; j < 32; ++j) qh |= ((codes[j] & 0x10u) >> 4) << j;
        return qh;
    }

    /// <summary>Unpacks 32 4-bit codes (+ bit 4 from <paramref name="qh"/>) minus <paramref name="zero"/>.</summary>
    public static void Unpack(ReadOnlySpan<byte> qs, uint qh, int zero, Span<sbyte> q)
    {
        for (int j = 0; j < 16; ++j)
        {
            q[j] = (sbyte)(((qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10)) - zero);
            q[j + 16] = (sbyte)(((qs[j] >> 4) | (int)(((qh >> (j + 16)) << 4) & 0x10)) - zero);
        }
    }

    /// <summary>Σ q[j]·y[j] over 32 values, y being signed Q8 codes.</summary>
    public static int IntDot(ReadOnlySpan<sbyte> q, ReadOnlySpan<byte> y)
    {
        int sum = 0;
        for (int j = 0; j < 32; ++j) sum += q[j] * (sbyte)y[j];
        return sum;
    }
}
