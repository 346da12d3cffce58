using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q5_1</c>: 32 values in 24 bytes (6 bits per weight), x = d·q + m.
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2    2 ggml_half m      minimum (offset)
///      4    4 uint8 qh[4]      little-endian uint32: bit j is bit 4 of value j (j = 0..31)
///      8   16 uint8 qs[16]     byte j: low 4 bits of value j in bits 0..3, of value j+16 in bits 4..7
/// </code>
/// </summary>
public static class Q5_1
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 24;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 minimum.</summary>
    public const int OffsetM = 2;
    /// <summary>Offset of the 32 high bits.</summary>
    public const int OffsetQh = 4;
    /// <summary>Offset of the packed low 4 bits.</summary>
    public const int OffsetQs = 8;

    /// <summary>The 32 codes (0..31) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) =>
        LegacyQuant.Unpack(block.Slice(OffsetQs, 16), BinaryPrimitives.ReadUInt32LittleEndian(block[OffsetQh..]), 0, q);

    /// <summary>dequantize_row_q5_1: y = q·d + m.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.DequantizeWithMinimum<Format>(src, dst);

    /// <summary>
    /// quantize_row_q5_1_ref: d = (max − min)/31, m = min, codes = (uint8)trunc((x − min)/d + 0.5), no clamp.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeWithMinimum<Format>(src, dst, nmax: 31, clampAsInt8: false);

    /// <summary>ggml_vec_dot_q5_1_q8_1 (generic scalar order): sumf += (dx·dy)·sumi + m·s per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => LegacyQuant.DotQ8_1<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IPackedFormat, ILegacyMinimumFormat
    {
        public static int BlockSize => Q5_1.BlockSize;
        public static int BlockBytes => Q5_1.BlockBytes;
        public static int OffsetD => Q5_1.OffsetD;
        public static int OffsetM => Q5_1.OffsetM;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q5_1.Unpack(block, q);
        public static void Pack(ReadOnlySpan<byte> codes, Span<byte> block) => LegacyQuant.PackFiveBits(codes, block, OffsetQh, OffsetQs);
    }
}
