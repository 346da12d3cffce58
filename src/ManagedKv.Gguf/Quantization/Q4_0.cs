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

    /// <summary>The 32 signed codes q − 8 (−8..7) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => LegacyQuant.Unpack(block.Slice(OffsetQs, 16), 0, 8, q);

    /// <summary>dequantize_row_q4_0: y = (q − 8)·d.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, OffsetD);
            Unpack(b, q);
            for (int j = 0; j < BlockSize; ++j) y[j] = q[j] * d;
        }
    }

    /// <summary>
    /// quantize_row_q4_0_ref: d = max/−8 where max is the signed value of largest magnitude (so that value
    /// maps to code 0 exactly), codes = min(15, trunc(x/d + 8.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<byte> codes = stackalloc byte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float d = LegacyQuant.Symmetric(src.Slice(i * BlockSize, BlockSize), codes, 8);
            Fp16.Write(b, OffsetD, d);
            LegacyQuant.PackNibbles(codes, b.Slice(OffsetQs, 16));
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_0_q8_0 (generic scalar order): per block an integer dot of (q − 8) with the Q8_0
    /// codes, then sumf += sumi·dx·dy in f32, associated left to right.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8_0.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_0.BlockBytes, Q8_0.BlockBytes);
            Unpack(bx, q);
            int sumi = LegacyQuant.IntDot(q, by.Slice(Q8_0.OffsetQs, 32));
            sumf += sumi * Fp16.Read(bx, OffsetD) * Fp16.Read(by, Q8_0.OffsetD);
        }
        return sumf;
    }
}
