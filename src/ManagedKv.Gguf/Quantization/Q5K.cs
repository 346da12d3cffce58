namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q5_K</c>: 256 values in 176 bytes (5.5 bits per weight), 8 sub-blocks of 32 values,
/// x = (d·sc[s])·q − dmin·m[s] with 5-bit codes q and 6-bit sub-block scales sc and mins m.
/// <code>
/// offset size field
///      0    2 ggml_half d      super-block scale of the sub-block scales
///      2    2 ggml_half dmin   super-block scale of the sub-block mins
///      4   12 uint8 scales[12] 8 six-bit scales and 8 six-bit mins (see KQuantFit.GetScaleMinK4)
///     16   32 uint8 qh[32]     bit 4 of the codes: byte l, bit 2c → value 64c+l, bit 2c+1 → value 64c+32+l
///     48  128 uint8 qs[128]    low 4 bits, laid out as in Q4_K
/// </code>
/// </summary>
public static class Q5K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 176;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 min scale.</summary>
    public const int OffsetDmin = 2;
    /// <summary>Offset of the 12 packed scale/min bytes.</summary>
    public const int OffsetScales = 4;
    /// <summary>Offset of the high-bit plane.</summary>
    public const int OffsetQh = 16;
    /// <summary>Offset of the packed low 4 bits.</summary>
    public const int OffsetQs = 48;

    /// <summary>dequantize_row_q5_K: y = (d·sc)·q − dmin·m per sub-block of 32.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => KQuant.DequantizeWithMinimum<Format>(src, dst);

    /// <summary>
    /// quantize_row_q5_K_ref: as Q4_K's reference with nmax 31 and candidates −0.5 + 0.1·k + 31, k = 0..15.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        KQuantAsym.Quantize<Format>(src, dst, nmax: 31, rmin: -0.5f, rdelta: 0.1f, nstep: 15);

    private static void PackCodes(ReadOnlySpan<byte> l, Span<byte> block)
    {
        Span<byte> qh = block.Slice(OffsetQh, 32);
        Span<byte> ql = block.Slice(OffsetQs, 128);
        qh.Clear();
        byte m1 = 1, m2 = 2;
        for (int c = 0; c < 4; c++)
        {
            for (int j = 0; j < 32; ++j)
            {
                int l1 = l[64 * c + j];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                int l2 = l[64 * c + j + 32];
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[32 * c + j] = (byte)(l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
    }

    /// <summary>The 256 codes (0..31) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        ReadOnlySpan<byte> qh = block.Slice(OffsetQh, 32);
        for (int c = 0; c < 4; c++)
        {
            ReadOnlySpan<byte> ql = block.Slice(OffsetQs + 32 * c, 32);
            int u1 = 1 << (2 * c), u2 = 2 << (2 * c);
            for (int l = 0; l < 32; ++l) q[64 * c + l] = (sbyte)((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0));
            for (int l = 0; l < 32; ++l) q[64 * c + 32 + l] = (sbyte)((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0));
        }
    }

    /// <summary>ggml_vec_dot_q5_K_q8_K (generic scalar order); see <see cref="Q4K.Dot"/>.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => KQuantAsym.Dot<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="KQuant"/> and <see cref="KQuantAsym"/>.</summary>
    internal readonly struct Format : IKMinimumFormat, IPackedFormat
    {
        public static int BlockSize => Q5K.BlockSize;
        public static int BlockBytes => Q5K.BlockBytes;
        public static int SubBlockSize => 32;
        public static int OffsetD => Q5K.OffsetD;
        public static int OffsetDmin => Q5K.OffsetDmin;
        public static int OffsetScales => Q5K.OffsetScales;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q5K.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => PackCodes(codes, block);
        public static void ScaleMin(ReadOnlySpan<byte> block, int s, out int scale, out int min) =>
            KQuantFit.GetScaleMinK4(s, block.Slice(OffsetScales, 12), out scale, out min);
    }
}
