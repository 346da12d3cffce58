namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q8_1</c>: 32 values in 36 bytes, x = d·q, plus s = d·Σq so that a dot product with an
/// offset format (Q4_1, Q5_1) can add m·s instead of summing the activation again. Activation type only.
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2    2 ggml_half s      d · (sum of the 32 codes)
///      4   32 int8 qs[32]      codes, in value order
/// </code>
/// </summary>
public static class Q8_1
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 36;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 scaled code sum.</summary>
    public const int OffsetS = 2;
    /// <summary>Offset of the signed codes.</summary>
    public const int OffsetQs = 4;

    /// <summary>
    /// x = d·q. ggml itself has no dequantize_row_q8_1 (it never stores Q8_1 tensors); this is the
    /// obvious inverse, for tests and inspection.
    /// </summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, OffsetD);
            for (int j = 0; j < BlockSize; ++j) y[j] = (sbyte)b[OffsetQs + j] * d;
        }
    }

    /// <summary>
    /// quantize_row_q8_1_ref: as Q8_0's reference (codes = roundf(x/d), halves away from zero) plus
    /// s = f16(Σq · d).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float amax = 0;
            for (int j = 0; j < BlockSize; j++) amax = QuantMath.CMax(amax, MathF.Abs(x[j]));
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            Fp16.Write(b, OffsetD, d);
            int sum = 0;
            for (int j = 0; j < BlockSize; ++j)
            {
                sbyte q = (sbyte)QuantMath.TruncToInt32(QuantMath.RoundHalfAwayFromZero(x[j] * id));
                b[OffsetQs + j] = (byte)q;
                sum += q;
            }
            Fp16.Write(b, OffsetS, sum * d);
        }
    }

    /// <summary>
    /// quantize_row_q8_1 in ggml-cpu/arch/x86/quants.c (AVX2 path, used for activations): like
    /// <see cref="Q8_0.QuantizeActivationX86"/> (multiplier 127/amax, round to nearest even, saturating
    /// packs) plus s = f16(d · Σ of the rounded int32 lanes, taken before the int8 packs).
    /// </summary>
    public static void QuantizeActivationX86(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScalar = X86Reduce.MaxAbs32(x);
            float d = maxScalar / 127f;
            Fp16.Write(b, OffsetD, d);
            float id = maxScalar != 0.0f ? 127f / maxScalar : 0.0f;
            int sum = 0;
            for (int j = 0; j < BlockSize; ++j)
            {
                int q = QuantMath.RoundToInt32(x[j] * id);
                sum += q; // hsum_i32_8 of the epi32 lanes: wrapping int32 adds, order-independent
                b[OffsetQs + j] = (byte)QuantMath.SaturateToInt8(q);
            }
            Fp16.Write(b, OffsetS, d * sum);
        }
    }
}
