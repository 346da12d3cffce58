namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q6_K</c>: 256 values in 210 bytes (6.5625 bits per weight), 16 sub-blocks of 16 values,
/// x = d·scales[s]·(q − 32) with 6-bit codes q.
/// <code>
/// offset size field
///      0  128 uint8 ql[128]    low 4 bits. For half h (values 128h..128h+127), byte 64h+l (l &lt; 32):
///                              bits 0..3 = value 128h+l, bits 4..7 = value 128h+l+64;
///                              byte 64h+32+l: bits 0..3 = value 128h+l+32, bits 4..7 = value 128h+l+96
///    128   64 uint8 qh[64]     high 2 bits. Byte 32h+l: bits 0..1 → value 128h+l, 2..3 → +32,
///                              4..5 → +64, 6..7 → +96
///    192   16 int8 scales[16]  signed 8-bit scale of each sub-block of 16 values
///    208    2 ggml_half d      super-block scale
/// </code>
/// </summary>
public static class Q6K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 210;
    /// <summary>Offset of the low 4 bits.</summary>
    public const int OffsetQl = 0;
    /// <summary>Offset of the high 2 bits.</summary>
    public const int OffsetQh = 128;
    /// <summary>Offset of the 16 int8 sub-block scales.</summary>
    public const int OffsetScales = 192;
    /// <summary>Offset of the f16 super-block scale.</summary>
    public const int OffsetD = 208;

    /// <summary>dequantize_row_q6_K: y = (d·scale)·q, in that association.</summary>
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
            for (int j = 0; j < BlockSize; j++)
                y[j] = d * (sbyte)b[OffsetScales + j / 16] * q[j];
        }
    }

    /// <summary>The 256 signed codes (q − 32, in −32..31) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        for (int h = 0; h < 2; h++)
        {
            ReadOnlySpan<byte> ql = block.Slice(OffsetQl + 64 * h, 64);
            ReadOnlySpan<byte> qh = block.Slice(OffsetQh + 32 * h, 32);
            Span<sbyte> a = q.Slice(128 * h, 128);
            for (int l = 0; l < 32; ++l)
            {
                a[l + 0] = (sbyte)(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                a[l + 32] = (sbyte)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                a[l + 64] = (sbyte)(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                a[l + 96] = (sbyte)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }

    /// <summary>
    /// quantize_row_q6_K_ref: each sub-block of 16 is fitted by make_qx_quants(nmax = 32, x²-weighted);
    /// the sub-block scales are then quantised to int8 against iscale = −128/max_scale (the signed scale of
    /// largest magnitude), d = 1/iscale, and every value is re-rounded against its final d·scale.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<sbyte> l = stackalloc sbyte[BlockSize];
        Span<float> scales = stackalloc float[BlockSize / 16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < BlockSize / 16; ++ib)
            {
                float scale = KQuantFit.MakeQxQuants(32, x.Slice(16 * ib, 16), l.Slice(16 * ib, 16));
                scales[ib] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale) { maxAbsScale = absScale; maxScale = scale; }
            }
            if (maxAbsScale < KQuantFit.GroupMaxEps)
            {
                b.Clear(); // memset(&y[i], 0, ...) and d = +0
                continue;
            }
            float iscale = -128f / maxScale;
            Fp16.Write(b, OffsetD, 1 / iscale);
            for (int ib = 0; ib < BlockSize / 16; ++ib)
                b[OffsetScales + ib] = (byte)Math.Min(127, QuantMath.NearestInt(iscale * scales[ib]));
            float dAll = Fp16.Read(b, OffsetD);
            for (int j = 0; j < BlockSize / 16; ++j)
            {
                float d = dAll * (sbyte)b[OffsetScales + j];
                if (d == 0) continue; // keep make_qx_quants' codes
                for (int ii = 0; ii < 16; ++ii)
                {
                    int li = Math.Max(-32, Math.Min(31, QuantMath.NearestInt(x[16 * j + ii] / d)));
                    l[16 * j + ii] = (sbyte)(li + 32);
                }
            }
            for (int h = 0; h < 2; h++)
            {
                Span<byte> ql = b.Slice(OffsetQl + 64 * h, 64);
                Span<byte> qh = b.Slice(OffsetQh + 32 * h, 32);
                int j = 128 * h;
                for (int k = 0; k < 32; ++k)
                {
                    int q1 = l[j + k + 0] & 0xF, q2 = l[j + k + 32] & 0xF, q3 = l[j + k + 64] & 0xF, q4 = l[j + k + 96] & 0xF;
                    ql[k + 0] = (byte)(q1 | (q3 << 4));
                    ql[k + 32] = (byte)(q2 | (q4 << 4));
                    qh[k] = (byte)((l[j + k] >> 4) | ((l[j + k + 32] >> 4) << 2) | ((l[j + k + 64] >> 4) << 4) | ((l[j + k + 96] >> 4) << 6));
                }
            }
        }
    }

    /// <summary>
    /// ggml_vec_dot_q6_K_q8_K (generic scalar order): per block, eight int32 lanes accumulate
    /// scale·(q·q8) over groups of 8 values; sums[l] += (dx·dy)·aux32[l] in f32; the eight lane sums are
    /// added at the end.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8K.BlockBytes);
        Span<sbyte> a = stackalloc sbyte[BlockSize];
        Span<int> aux32 = stackalloc int[8];
        Span<float> sums = stackalloc float[8];
        sums.Clear();
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            Unpack(bx, a);
            aux32.Clear();
            for (int j = 0; j < BlockSize / 16; ++j)
            {
                int scale = (sbyte)bx[OffsetScales + j];
                KDot.Accumulate(aux32, scale, a.Slice(16 * j, 16), by.Slice(Q8K.OffsetQs + 16 * j, 16));
            }
            float d = Fp16.Read(bx, OffsetD) * Q8K.ReadD(by);
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
        }
        float sumf = 0;
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }
}
