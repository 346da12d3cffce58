namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q3_K</c>: 256 values in 110 bytes (3.4375 bits per weight), 16 sub-blocks of 16 values,
/// x = (d·(sc[s] − 32))·(q − 4) with 3-bit codes q and 6-bit sub-block scales sc.
/// <code>
/// offset size field
///      0   32 uint8 hmask[32]  bit 2 of the codes: byte l, bit k → value 32k+l (k = 0..7)
///     32   64 uint8 qs[64]     low 2 bits, laid out as in Q2_K
///     96   12 uint8 scales[12] sub-block s: low 4 bits in byte s (s &lt; 8, bits 0..3) or byte s−8
///                              (s ≥ 8, bits 4..7); high 2 bits in byte 8 + s%4, bits 2·(s/4)..+1
///    108    2 ggml_half d      super-block scale
/// </code>
/// </summary>
public static class Q3K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 110;
    /// <summary>Offset of the high-bit plane.</summary>
    public const int OffsetHmask = 0;
    /// <summary>Offset of the packed low 2 bits.</summary>
    public const int OffsetQs = 32;
    /// <summary>Offset of the 12 packed 6-bit scale bytes.</summary>
    public const int OffsetScales = 96;
    /// <summary>Offset of the f16 super-block scale.</summary>
    public const int OffsetD = 108;

    /// <summary>The 6-bit scale of sub-block <paramref name="s"/> (0..15), before the −32 offset.</summary>
    public static int Scale(ReadOnlySpan<byte> block, int s)
    {
        ReadOnlySpan<byte> sc = block.Slice(OffsetScales, 12);
        int low = s < 8 ? sc[s] & 0xF : sc[s - 8] >> 4;
        return low | (((sc[8 + s % 4] >> (2 * (s / 4))) & 3) << 4);
    }

    /// <summary>The 256 signed codes (q − 4, in −4..3) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        TwoBitPlanes.Unpack(block.Slice(OffsetQs, 64), q);
        ReadOnlySpan<byte> hm = block.Slice(OffsetHmask, 32);
        for (int v = 0; v < BlockSize; v++)
            q[v] = (sbyte)(q[v] - ((hm[v % 32] & (1 << (v / 32))) != 0 ? 0 : 4));
    }

    /// <summary>dequantize_row_q3_K: y = (d·(sc − 32))·(q − 4).</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => KQuant.DequantizeScaled<Format>(src, dst);

    /// <summary>
    /// quantize_row_q3_K_ref: each sub-block of 16 gets make_q3_quants(nmax 4, x²-weighted descent); the
    /// sub-block scales are quantised to 6 bits against iscale = −32/max_scale (signed scale of largest
    /// magnitude), d = 1/iscale, and values are re-rounded against the final d·(sc − 32).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<sbyte> l = stackalloc sbyte[BlockSize];
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            for (int j = 0; j < 16; ++j)
                scales[j] = KQuantFit.MakeQ3Quants(4, x.Slice(16 * j, 16), l.Slice(16 * j, 16));
            float maxScale = QuantMath.MaxByMagnitude(scales, out _);
            Span<byte> sc = b.Slice(OffsetScales, 12);
            sc.Clear();
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; ++j)
                {
                    // int8_t l = nearest_int(...): truncated to 8 bits before the clamp
                    int lj = Math.Max(-32, Math.Min(31, (int)(sbyte)QuantMath.NearestInt(iscale * scales[j]))) + 32;
                    if (j < 8) sc[j] = (byte)(lj & 0xF);
                    else sc[j - 8] |= (byte)((lj & 0xF) << 4);
                    lj >>= 4;
                    sc[j % 4 + 8] |= (byte)(lj << (2 * (j / 4)));
                }
                Fp16.Write(b, OffsetD, 1 / iscale);
            }
            else
            {
                Fp16.Write(b, OffsetD, 0f);
            }
            KQuant.ReRoundScaled<Format>(x, l, b, nmax: 4);
            Span<byte> hmask = b.Slice(OffsetHmask, 32);
            hmask.Clear();
            for (int j = 0; j < BlockSize; ++j)
            {
                int code = l[j];
                if (code > 3)
                {
                    hmask[j % 32] |= (byte)(1 << (j / 32));
                    code -= 4;
                }
                codes[j] = (byte)code;
            }
            TwoBitPlanes.Pack(codes, b.Slice(OffsetQs, 64));
        }
    }

    /// <summary>
    /// ggml_vec_dot_q3_K_q8_K (generic scalar order): eight int32 lanes of (sc − 32)·(q·q8) per group of 8;
    /// sums[l] += (dx·dy)·aux32[l]; lane sums added at the end.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => KQuant.DotScaled<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="KQuant"/>.</summary>
    internal readonly struct Format : IKScaledFormat
    {
        public static int BlockSize => Q3K.BlockSize;
        public static int BlockBytes => Q3K.BlockBytes;
        public static int OffsetD => Q3K.OffsetD;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q3K.Unpack(block, q);
        public static int Scale(ReadOnlySpan<byte> block, int s) => Q3K.Scale(block, s) - 32;
    }
}
