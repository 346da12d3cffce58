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

    /// <summary>dequantize_row_q5_0.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, OffsetD);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[OffsetQh..]);
            for (int j = 0; j < 16; ++j)
            {
                int x0 = ((b[OffsetQs + j] & 0x0F) | Q5Bits.High(qh, j)) - 16;
                int x1 = ((b[OffsetQs + j] >> 4) | Q5Bits.High(qh, j + 16)) - 16;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>
    /// quantize_row_q5_0_ref: d = max/−16 (max = signed value of largest magnitude), codes =
    /// min(31, trunc(x/d + 16.5)).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float amax = 0, max = 0;
            for (int j = 0; j < BlockSize; j++)
            {
                if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
            }
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Fp16.Write(b, OffsetD, d);
            uint qh = 0;
            for (int j = 0; j < 16; ++j)
            {
                byte xi0 = (byte)Math.Min(31, (int)(sbyte)QuantMath.TruncToInt32(x[j] * id + 16.5f));
                byte xi1 = (byte)Math.Min(31, (int)(sbyte)QuantMath.TruncToInt32(x[j + 16] * id + 16.5f));
                b[OffsetQs + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= Q5Bits.Bit4(xi0) << j;
                qh |= Q5Bits.Bit4(xi1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(b[OffsetQh..], qh);
        }
    }

    /// <summary>ggml_vec_dot_q5_0_q8_0 (generic scalar order): sumf += (dx·dy)·sumi per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8_0.BlockBytes);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_0.BlockBytes, Q8_0.BlockBytes);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(bx[OffsetQh..]);
            int sumi0 = 0, sumi1 = 0;
            for (int j = 0; j < 16; ++j)
            {
                int x0 = ((bx[OffsetQs + j] & 0x0F) | Q5Bits.High(qh, j)) - 16;
                int x1 = ((bx[OffsetQs + j] >> 4) | Q5Bits.High(qh, j + 16)) - 16;
                sumi0 += x0 * (sbyte)by[Q8_0.OffsetQs + j];
                sumi1 += x1 * (sbyte)by[Q8_0.OffsetQs + j + 16];
            }
            int sumi = sumi0 + sumi1;
            sumf += Fp16.Read(bx, OffsetD) * Fp16.Read(by, Q8_0.OffsetD) * sumi;
        }
        return sumf;
    }
}
