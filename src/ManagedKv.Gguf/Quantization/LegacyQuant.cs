using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>
/// The row loops, code searches and integer dot shared by the 32-value formats (Q4_0/Q5_0 symmetric, Q4_1/Q5_1
/// with a minimum, Q8_0/Q8_1), written once with the exact C conversions of ggml-quants.c. The loops are
/// generic over the format's <see cref="IBlockFormat"/> struct; each format class documents its layout.
/// </summary>
internal static class LegacyQuant
{
    /// <summary>dequantize_row_q4_0 / q5_0 / q8_0 (and the same x = d·q for Q8_1 blocks): y = q·d.</summary>
    public static void Dequantize<T>(ReadOnlySpan<byte> src, Span<float> dst) where T : IBlockFormat
    {
        int nb = Rows.Check(src, dst.Length, T.BlockSize, T.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * T.BlockBytes, T.BlockBytes);
            Span<float> y = dst.Slice(i * T.BlockSize, T.BlockSize);
            float d = Fp16.Read(b, T.OffsetD);
            T.Unpack(b, q);
            for (int j = 0; j < T.BlockSize; ++j) y[j] = q[j] * d;
        }
    }

    /// <summary>
    /// dequantize_row_q4_1 / q5_1: y = q·d + m. Not <see cref="Dequantize{T}"/> with m = 0: adding +0 would
    /// turn its −0 results into +0.
    /// </summary>
    public static void DequantizeWithMinimum<T>(ReadOnlySpan<byte> src, Span<float> dst) where T : ILegacyMinimumFormat
    {
        int nb = Rows.Check(src, dst.Length, T.BlockSize, T.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * T.BlockBytes, T.BlockBytes);
            Span<float> y = dst.Slice(i * T.BlockSize, T.BlockSize);
            float d = Fp16.Read(b, T.OffsetD), m = Fp16.Read(b, T.OffsetM);
            T.Unpack(b, q);
            for (int j = 0; j < T.BlockSize; ++j) y[j] = q[j] * d + m;
        }
    }

    /// <summary>quantize_row_q4_0_ref / q5_0_ref: <see cref="Symmetric"/> per block, f16 d, packed codes.</summary>
    public static void QuantizeSymmetric<T>(ReadOnlySpan<float> src, Span<byte> dst, int half) where T : IPackedFormat
    {
        int nb = Rows.Check(dst, src.Length, T.BlockSize, T.BlockBytes);
        Span<byte> codes = stackalloc byte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * T.BlockBytes, T.BlockBytes);
            float d = Symmetric(src.Slice(i * T.BlockSize, T.BlockSize), codes, half);
            Fp16.Write(b, T.OffsetD, d);
            T.Pack(codes, b);
        }
    }

    /// <summary>quantize_row_q4_1_ref / q5_1_ref: <see cref="WithMinimum"/> per block, f16 d and m, packed codes.</summary>
    public static void QuantizeWithMinimum<T>(ReadOnlySpan<float> src, Span<byte> dst, int nmax, bool clampAsInt8)
        where T : ILegacyMinimumFormat, IPackedFormat
    {
        int nb = Rows.Check(dst, src.Length, T.BlockSize, T.BlockBytes);
        Span<byte> codes = stackalloc byte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * T.BlockBytes, T.BlockBytes);
            float d = WithMinimum(src.Slice(i * T.BlockSize, T.BlockSize), codes, nmax, clampAsInt8, out float min);
            Fp16.Write(b, T.OffsetD, d);
            Fp16.Write(b, T.OffsetM, min);
            T.Pack(codes, b);
        }
    }

    /// <summary>
    /// quantize_row_q8_0 / q8_1, either the reference (<see cref="Q8Reference"/>, f16 by the software
    /// conversion, as llama-quantize writes) or ggml-cpu's x86 activation path (<see cref="Q8X86"/>, f16 by F16C).
    /// </summary>
    public static void QuantizeQ8<T>(ReadOnlySpan<float> src, Span<byte> dst, bool activationX86) where T : IQ8Format
    {
        int nb = Rows.Check(dst, src.Length, T.BlockSize, T.BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * T.BlockBytes, T.BlockBytes);
            ReadOnlySpan<float> x = src.Slice(i * T.BlockSize, T.BlockSize);
            Span<byte> codes = b.Slice(T.OffsetQs, T.BlockSize);
            if (activationX86)
            {
                float d = Q8X86(x, codes, out int sum);
                T.WriteScales(b, Fp16.FromSingleF16C(d), Fp16.FromSingleF16C(d * sum));
            }
            else
            {
                float d = Q8Reference(x, codes, out int sum);
                T.WriteScales(b, Fp16.FromSingle(d), Fp16.FromSingle(sum * d));
            }
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_0_q8_0 / q5_0_q8_0 / q8_0_q8_0 (generic scalar order): per block an integer dot of the
    /// weight's signed codes with the Q8_0 codes, then sumf += <see cref="IQ8_0DotFormat.DotTerm"/> in f32.
    /// </summary>
    public static float DotQ8_0<T>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) where T : IQ8_0DotFormat
    {
        int nb = Rows.CheckDot(x, y, T.BlockBytes, Q8_0.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * T.BlockBytes, T.BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_0.BlockBytes, Q8_0.BlockBytes);
            T.Unpack(bx, q);
            int sumi = IntDot(q, by.Slice(Q8_0.OffsetQs, 32));
            sumf += T.DotTerm(sumi, Fp16.Read(bx, T.OffsetD), Fp16.Read(by, Q8_0.OffsetD));
        }
        return sumf;
    }

    /// <summary>
    /// ggml_vec_dot_q4_1_q8_1 / q5_1_q8_1 (generic scalar order): sumf += (dx·dy)·sumi + m·s per block. Not
    /// <see cref="DotQ8_0{T}"/>: the activations are Q8_1 blocks and each block adds the m·s term.
    /// </summary>
    public static float DotQ8_1<T>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) where T : ILegacyMinimumFormat
    {
        int nb = Rows.CheckDot(x, y, T.BlockBytes, Q8_1.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * T.BlockBytes, T.BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_1.BlockBytes, Q8_1.BlockBytes);
            T.Unpack(bx, q);
            int sumi = IntDot(q, by.Slice(Q8_1.OffsetQs, 32));
            sumf += Fp16.Read(bx, T.OffsetD) * Fp16.Read(by, Q8_1.OffsetD) * sumi
                    + Fp16.Read(bx, T.OffsetM) * Fp16.Read(by, Q8_1.OffsetS);
        }
        return sumf;
    }

    /// <summary>
    /// quantize_row_q4_0_ref / q5_0_ref: max is the signed value of largest magnitude (first one wins),
    /// d = max/−half, codes = min(2·half − 1, (int8)trunc(x·(1/d) + half + 0.5)).
    /// </summary>
    /// <returns>The scale d (before f16 rounding).</returns>
    public static float Symmetric(ReadOnlySpan<float> x, Span<byte> codes, int half)
    {
        float max = QuantMath.MaxByMagnitude(x, out _);
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

    /// <summary>Packs 32 codes as qs[j] = code[j] | code[j+16] &lt;&lt; 4 (low 4 bits of each).</summary>
    public static void PackNibbles(ReadOnlySpan<byte> codes, Span<byte> qs)
    {
        for (int j = 0; j < 16; ++j) qs[j] = (byte)((codes[j] & 0x0F) | ((codes[j + 16] & 0x0F) << 4));
    }

    /// <summary>
    /// Q5_0/Q5_1 packing: the low 4 bits of 32 codes as <see cref="PackNibbles"/> at <paramref name="offsetQs"/>,
    /// bit 4 of code j as bit j of the little-endian uint32 at <paramref name="offsetQh"/>.
    /// </summary>
    public static void PackFiveBits(ReadOnlySpan<byte> codes, Span<byte> block, int offsetQh, int offsetQs)
    {
        PackNibbles(codes, block.Slice(offsetQs, 16));
        uint qh = 0;
        for (int j = 0; j < 32; ++j) qh |= ((codes[j] & 0x10u) >> 4) << j;
        BinaryPrimitives.WriteUInt32LittleEndian(block[offsetQh..], qh);
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
