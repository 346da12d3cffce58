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
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => KQuant.DequantizeScaled<Format>(src, dst);

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
            for (int ib = 0; ib < BlockSize / 16; ++ib)
                scales[ib] = KQuantFit.MakeQxQuants(32, x.Slice(16 * ib, 16), l.Slice(16 * ib, 16));
            float maxScale = QuantMath.MaxByMagnitude(scales, out float maxAbsScale);
            if (maxAbsScale < KQuantFit.GroupMaxEps)
            {
                b.Clear(); // memset(&y[i], 0, ...) and d = +0
                continue;
            }
            float iscale = -128f / maxScale;
            Fp16.Write(b, OffsetD, 1 / iscale);
            for (int ib = 0; ib < BlockSize / 16; ++ib)
                b[OffsetScales + ib] = (byte)Math.Min(127, QuantMath.NearestInt(iscale * scales[ib]));
            KQuant.ReRoundScaled<Format>(x, l, b, nmax: 32);
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
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => KQuant.DotScaled<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="KQuant"/>.</summary>
    internal readonly struct Format : IKScaledFormat
    {
        public static int BlockSize => Q6K.BlockSize;
        public static int BlockBytes => Q6K.BlockBytes;
        public static int OffsetD => Q6K.OffsetD;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q6K.Unpack(block, q);
        public static int Scale(ReadOnlySpan<byte> block, int s) => (sbyte)block[OffsetScales + s];
    }
}
