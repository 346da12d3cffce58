namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q4_0</c>: 32 values in 18 bytes (4.5 bits per weight), x = d·(q − 8).
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2   16 uint8 qs[16]     byte j: value j in bits 0..3, value j+16 in bits 4..7
/// </code>
/// </summary>
public static class Q4_0
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 18;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the packed 4-bit codes.</summary>
    public const int OffsetQs = 2;

    /// <summary>dequantize_row_q4_0.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, OffsetD);
            for (int j = 0; j < 16; ++j)
            {
                int x0 = (b[OffsetQs + j] & 0x0F) - 8;
                int x1 = (b[OffsetQs + j] >> 4) - 8;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>
    /// quantize_row_q4_0_ref: d = max/−8 where max is the signed value of largest magnitude (so that value
    /// maps to code 0 exactly), codes = min(15, trunc(x/d + 8.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float amax = 0, max = 0;
            for (int j = 0; j < BlockSize; j++)
            {
                if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Fp16.Write(b, OffsetD, d);
            for (int j = 0; j < 16; ++j)
            {
                int xi0 = Math.Min(15, (int)(sbyte)QuantMath.TruncToInt32(x[j] * id + 8.5f));
                int xi1 = Math.Min(15, (int)(sbyte)QuantMath.TruncToInt32(x[j + 16] * id + 8.5f));
                b[OffsetQs + j] = (byte)((byte)xi0 | ((byte)xi1 << 4));
            }
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_0_q8_0 (generic scalar order): per block an integer dot of (q − 8) with the Q8_0
    /// codes, then sumf += sumi·dx·dy in f32.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8_0.BlockBytes);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_0.BlockBytes, Q8_0.BlockBytes);
            int sumi0 = 0, sumi1 = 0;
            for (int j = 0; j < 16; ++j)
            {
                int v0 = (bx[OffsetQs + j] & 0x0F) - 8;
                int v1 = (bx[OffsetQs + j] >> 4) - 8;
                sumi0 += v0 * (sbyte)by[Q8_0.OffsetQs + j];
                sumi1 += v1 * (sbyte)by[Q8_0.OffsetQs + j + 16];
            }
            int sumi = sumi0 + sumi1;
            sumf += sumi * Fp16.Read(bx, OffsetD) * Fp16.Read(by, Q8_0.OffsetD);
        }
        return sumf;
    }
}
