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
            for (int j = 0; j < BlockSize; ++j) y[j] = q[j] * d;
        }
    }

    /// <summary>
    /// quantize_row_q5_0_ref: d = max/−16 (max = signed value of largest magnitude), codes =
    /// min(31, trunc(x/d + 16.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<byte> codes = stackalloc byte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float d = LegacyQuant.Symmetric(src.Slice(i * BlockSize, BlockSize), codes, 16);
            Fp16.Write(b, OffsetD, d);
            LegacyQuant.PackNibbles(codes, b.Slice(OffsetQs, 16));
            BinaryPrimitives.WriteUInt32LittleEndian(b[OffsetQh..], LegacyQuant.HighBits(codes));
        }
    }

    /// <summary>ggml_vec_dot_q5_0_q8_0 (generic scalar order): sumf += (dx·dy)·sumi per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8_0.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_0.BlockBytes, Q8_0.BlockBytes);
            Unpack(bx, q);
            int sumi = LegacyQuant.IntDot(q, by.Slice(Q8_0.OffsetQs, 32));
            sumf += Fp16.Read(bx, OffsetD) * Fp16.Read(by, Q8_0.OffsetD) * sumi;
        }
        return sumf;
    }
}
