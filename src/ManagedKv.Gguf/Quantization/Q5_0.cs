using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q5_0</c>: 32 values in 22 bytes (5.5 bits per weight), x = d·(q − 16).
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2    4 uint8 qh[4]      little-endian uint32: bit j is bit 4 of value j (j = 0..31)
///      6   16 uint8 qs[16]     byte j: low 4 bits of value j in bits 0..3, of value j+16 in bits 4..7
/// </code>
/// </summary>
public static class Q5_0
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 22;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the 32 high bits.</summary>
    public const int OffsetQh = 2;
    /// <summary>Offset of the packed low 4 bits.</summary>
    public const int OffsetQs = 6;

    /// <summary>The 32 signed codes q − 16 (−16..15) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) =>
        LegacyQuant.Unpack(block.Slice(OffsetQs, 16), BinaryPrimitives.ReadUInt32LittleEndian(block[OffsetQh..]), 16, q);

    /// <summary>dequantize_row_q5_0: y = (q − 16)·d.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.Dequantize<Format>(src, dst);

    /// <summary>
    /// quantize_row_q5_0_ref: d = max/−16 (max = signed value of largest magnitude), codes =
    /// min(31, trunc(x/d + 16.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeSymmetric<Format>(src, dst, half: 16);

    /// <summary>ggml_vec_dot_q5_0_q8_0 (generic scalar order): sumf += (dx·dy)·sumi per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => LegacyQuant.DotQ8_0<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IPackedFormat, IQ8_0DotFormat
    {
        public static int BlockSize => Q5_0.BlockSize;
        public static int BlockBytes => Q5_0.BlockBytes;
        public static int OffsetD => Q5_0.OffsetD;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q5_0.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => LegacyQuant.PackFiveBits(codes, block, OffsetQh, OffsetQs);
        public static float DotTerm(int sumi, float dx, float dy) => dx * dy * sumi;
    }
}
