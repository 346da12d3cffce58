using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q8_K</c>: 256 values in 292 bytes, x = d·q with an f32 scale; the activation type of
/// every K-quant. The 16 block sums let Q2_K/Q4_K/Q5_K dot products apply their per-sub-block minimum
/// without touching the codes again.
/// <code>
/// offset size field
///      0    4 float d          scale (f32, not f16)
///      4  256 int8 qs[256]     codes, in value order
///    260   32 int16 bsums[16]  bsums[j] = Σ qs[16j .. 16j+15]
/// </code>
/// </summary>
public static class Q8K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 292;
    /// <summary>Offset of the f32 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the signed codes.</summary>
    public const int OffsetQs = 4;
    /// <summary>Offset of the 16 int16 group sums.</summary>
    public const int OffsetBsums = 260;

    /// <summary>Reads the f32 scale of a block.</summary>
    public static float ReadD(ReadOnlySpan<byte> block) => BinaryPrimitives.ReadSingleLittleEndian(block[OffsetD..]);

    /// <summary>Reads group sum <paramref name="j"/> (0..15) of a block.</summary>
    public static short ReadBsum(ReadOnlySpan<byte> block, int j) => BinaryPrimitives.ReadInt16LittleEndian(block[(OffsetBsums + 2 * j)..]);

    /// <summary>dequantize_row_q8_K: x = d·q.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = ReadD(b);
            for (int j = 0; j < BlockSize; ++j) y[j] = d * (sbyte)b[OffsetQs + j];
        }
    }

    /// <summary>
    /// quantize_row_q8_K_ref, which is also what ggml-cpu runs for activations on x86 (its
    /// quantize_row_q8_K there simply calls the reference). With max = the signed value of largest
    /// magnitude: iscale = −127/max, q = min(127, nearest_int(iscale·x)) (round to nearest even),
    /// d = 1/iscale stored as f32, bsums = sums of 16 codes. The sign convention means the largest-magnitude
    /// value always becomes −127. An all-zero block gets d = 0 and zero codes; ggml leaves its bsums
    /// unwritten, here they are zeroed.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float max = QuantMath.MaxByMagnitude(x, out float amax);
            if (amax == 0)
            {
                b.Clear();
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < BlockSize; ++j)
                b[OffsetQs + j] = (byte)Math.Min(127, QuantMath.NearestInt(iscale * x[j]));
            for (int j = 0; j < BlockSize / 16; ++j)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) sum += (sbyte)b[OffsetQs + j * 16 + ii];
                BinaryPrimitives.WriteInt16LittleEndian(b[(OffsetBsums + 2 * j)..], (short)sum);
            }
            BinaryPrimitives.WriteSingleLittleEndian(b[OffsetD..], 1 / iscale);
        }
    }
}
