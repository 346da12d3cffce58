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

    /// <summary>dequantize_row_q5_1.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, OffsetD), m = Fp16.Read(b, OffsetM);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[OffsetQh..]);
            for (int j = 0; j < 16; ++j)
            {
                int x0 = (b[OffsetQs + j] & 0x0F) | Q5Bits.High(qh, j);
                int x1 = (b[OffsetQs + j] >> 4) | Q5Bits.High(qh, j + 16);
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>
    /// quantize_row_q5_1_ref: d = (max − min)/31, m = min, codes = (uint8)trunc((x − min)/d + 0.5), no clamp.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float min = float.MaxValue, max = -float.MaxValue;
            for (int j = 0; j < BlockSize; j++)
            {
                if (x[j] < min) min = x[j];
                if (x[j] > max) max = x[j];
            }
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            Fp16.Write(b, OffsetD, d);
            Fp16.Write(b, OffsetM, min);
            uint qh = 0;
            for (int j = 0; j < 16; ++j)
            {
                byte xi0 = (byte)QuantMath.TruncToInt32((x[j] - min) * id + 0.5f);
                byte xi1 = (byte)QuantMath.TruncToInt32((x[j + 16] - min) * id + 0.5f);
                b[OffsetQs + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= Q5Bits.Bit4(xi0) << j;
                qh |= Q5Bits.Bit4(xi1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(b[OffsetQh..], qh);
        }
    }

    /// <summary>ggml_vec_dot_q5_1_q8_1 (generic scalar order): sumf += (dx·dy)·sumi + m·s per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8_1.BlockBytes);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * Q8_1.BlockBytes, Q8_1.BlockBytes);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(bx[OffsetQh..]);
            int sumi0 = 0, sumi1 = 0;
            for (int j = 0; j < 16; ++j)
            {
                int x0 = (bx[OffsetQs + j] & 0x0F) | Q5Bits.High(qh, j);
                int x1 = (bx[OffsetQs + j] >> 4) | Q5Bits.High(qh, j + 16);
                sumi0 += x0 * (sbyte)by[Q8_1.OffsetQs + j];
                sumi1 += x1 * (sbyte)by[Q8_1.OffsetQs + j + 16];
            }
            int sumi = sumi0 + sumi1;
            sumf += Fp16.Read(bx, OffsetD) * Fp16.Read(by, Q8_1.OffsetD) * sumi
                    + Fp16.Read(bx, OffsetM) * Fp16.Read(by, Q8_1.OffsetS);
        }
        return sumf;
    }
}
