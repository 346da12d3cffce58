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
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.Dequantize<Format>(src, dst);

    /// <summary>
    /// quantize_row_q4_0_ref: d = max/−8 where max is the signed value of largest magnitude (so that value
    /// maps to code 0 exactly), codes = min(15, trunc(x/d + 8.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeSymmetric<Format>(src, dst, half: 8);

    /// <summary>
    /// ggml_vec_dot_q4_0_q8_0 (generic scalar order): per block an integer dot of (q − 8) with the Q8_0
    /// codes, then sumf += sumi·dx·dy in f32, associated left to right.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => LegacyQuant.DotQ8_0<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IPackedFormat, IQ8_0DotFormat
    {
        public static int BlockSize => Q4_0.BlockSize;
        public static int BlockBytes => Q4_0.BlockBytes;
        public static int OffsetD => Q4_0.OffsetD;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q4_0.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => LegacyQuant.PackNibbles(codes, block.Slice(OffsetQs, 16));
        public static float DotTerm(int sumi, float dx, float dy) => sumi * dx * dy;
    }
}
