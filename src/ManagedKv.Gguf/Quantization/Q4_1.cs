namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q4_1</c>: 32 values in 20 bytes (5 bits per weight), x = d·q + m.
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2    2 ggml_half m      minimum (offset)
///      4   16 uint8 qs[16]     byte j: value j in bits 0..3, value j+16 in bits 4..7
/// </code>
/// </summary>
public static class Q4_1
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 20;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 minimum.</summary>
    public const int OffsetM = 2;
    /// <summary>Offset of the packed 4-bit codes.</summary>
    public const int OffsetQs = 4;

    /// <summary>The 32 codes (0..15) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => LegacyQuant.Unpack(block.Slice(OffsetQs, 16), 0, 0, q);

    /// <summary>dequantize_row_q4_1: y = q·d + m.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.DequantizeWithMinimum<Format>(src, dst);

    /// <summary>
    /// quantize_row_q4_1_ref: d = (max − min)/15, m = min, codes = min(15, trunc((x − min)/d + 0.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeWithMinimum<Format>(src, dst, nmax: 15, clampAsInt8: true);

    /// <summary>
    /// ggml_vec_dot_q4_1_q8_1 (generic scalar order): sumf += (dx·dy)·sumi + m·s per block, where s = dy·Σqy
    /// is the Q8_1 block's stored sum term.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => LegacyQuant.DotQ8_1<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IPackedFormat, ILegacyMinimumFormat
    {
        public static int BlockSize => Q4_1.BlockSize;
        public static int BlockBytes => Q4_1.BlockBytes;
        public static int OffsetD => Q4_1.OffsetD;
        public static int OffsetM => Q4_1.OffsetM;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q4_1.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => LegacyQuant.PackNibbles(codes, block.Slice(OffsetQs, 16));
    }
}
