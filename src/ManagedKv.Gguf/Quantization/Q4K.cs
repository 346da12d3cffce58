namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q4_K</c>: 256 values in 144 bytes (4.5 bits per weight), 8 sub-blocks of 32 values,
/// x = (d·sc[s])·q − dmin·m[s] with 4-bit codes q and 6-bit sub-block scales sc and mins m.
/// <code>
/// offset size field
///      0    2 ggml_half d      super-block scale of the sub-block scales
///      2    2 ggml_half dmin   super-block scale of the sub-block mins
///      4   12 uint8 scales[12] 8 six-bit scales and 8 six-bit mins (see KQuantFit.GetScaleMinK4)
///     16  128 uint8 qs[128]    for chunk c (values 64c..64c+63), byte 32c+l: bits 0..3 = value 64c+l
///                              (sub-block 2c), bits 4..7 = value 64c+32+l (sub-block 2c+1)
/// </code>
/// </summary>
public static class Q4K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 144;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 min scale.</summary>
    public const int OffsetDmin = 2;
    /// <summary>Offset of the 12 packed scale/min bytes.</summary>
    public const int OffsetScales = 4;
    /// <summary>Offset of the packed 4-bit codes.</summary>
    public const int OffsetQs = 16;

    /// <summary>dequantize_row_q4_K: y = (d·sc)·q − dmin·m per sub-block of 32.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => KQuant.DequantizeWithMinimum<Format>(src, dst);

    /// <summary>
    /// quantize_row_q4_K_ref (what llama-quantize writes without an importance matrix): each sub-block of
    /// 32 gets make_qkx2_quants(nmax 15, weights av_x + |x|, candidates −1 + 0.1·k + 15, k = 0..20); scales
    /// and mins are quantised to 6 bits against 63/max; values are re-rounded against the final f16 values.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        KQuantAsym.Quantize<Format>(src, dst, nmax: 15, rmin: -1f, rdelta: 0.1f, nstep: 20);

    private static void PackCodes(ReadOnlySpan<byte> l, Span<byte> block)
    {
        Span<byte> q = block.Slice(OffsetQs, 128);
        for (int c = 0; c < 4; c++)
            for (int k = 0; k < 32; ++k)
                q[32 * c + k] = (byte)(l[64 * c + k] | (l[64 * c + k + 32] << 4));
    }

    /// <summary>The 256 codes (0..15) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        for (int c = 0; c < 4; c++)
        {
            ReadOnlySpan<byte> qs = block.Slice(OffsetQs + 32 * c, 32);
            for (int l = 0; l < 32; ++l) q[64 * c + l] = (sbyte)(qs[l] & 0xF);
            for (int l = 0; l < 32; ++l) q[64 * c + 32 + l] = (sbyte)(qs[l] >> 4);
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_K_q8_K (generic scalar order): eight int32 lanes of sc·(q·q8); the min term
    /// Σ bsums[j]·m[j/2] is subtracted per block as sumf −= (dmin·dy)·sumi; lane sums are added at the end.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => KQuantAsym.Dot<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="KQuant"/> and <see cref="KQuantAsym"/>.</summary>
    internal readonly struct Format : IKMinimumFormat, IPackedFormat
    {
        public static int BlockSize => Q4K.BlockSize;
        public static int BlockBytes => Q4K.BlockBytes;
        public static int SubBlockSize => 32;
        public static int OffsetD => Q4K.OffsetD;
        public static int OffsetDmin => Q4K.OffsetDmin;
        public static int OffsetScales => Q4K.OffsetScales;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q4K.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => PackCodes(codes, block);
        public static void ScaleMin(ReadOnlySpan<byte> block, int s, out int scale, out int min) =>
            KQuantFit.GetScaleMinK4(s, block.Slice(OffsetScales, 12), out scale, out min);
    }
}
