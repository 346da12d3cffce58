namespace ManagedKv.Gguf;

/// <summary>Dequantisation and Q8_1 dot product shared by Q4_1 and Q5_1 (x = d·q + m).</summary>
internal static class WithMinimum
{
    /// <summary>Unpacks a block's 32 codes in value order.</summary>
    public delegate void UnpackCodes(ReadOnlySpan<byte> block, Span<sbyte> codes);

    private const int BlockSize = 32;

    /// <summary>dequantize_row_q4_1 / q5_1: y = q·d + m.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, int blockBytes, int offsetD, int offsetM, UnpackCodes unpack)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, blockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * blockBytes, blockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, offsetD), m = Fp16.Read(b, offsetM);
            unpack(b, q);
            for (int j = 0; j < BlockSize; ++j) y[j] = q[j] * d + m;
        }
    }

    /// <summary>ggml_vec_dot_q4_1_q8_1 / q5_1_q8_1 (generic): sumf += (dx·dy)·sumi + m·s per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, int blockBytes, int offsetD, int offsetM, UnpackCodes unpack)
    {
        int nb = Rows.CheckDot(x, y, blockBytes, Q8_1.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * blockBytes, blockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_1.BlockBytes, Q8_1.BlockBytes);
            unpack(bx, q);
            int sumi = LegacyQuant.IntDot(q, by.Slice(Q8_1.OffsetQs, 32));
            sumf += Fp16.Read(bx, offsetD) * Fp16.Read(by, Q8_1.OffsetD) * sumi
                    + Fp16.Read(bx, offsetM) * Fp16.Read(by, Q8_1.OffsetS);
        }
        return sumf;
    }
}
