using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q8_0</c>: 32 values in 34 bytes (8.5 bits per weight), x = d·q. Also the activation
/// type for Q4_0, Q5_0 and Q8_0 weights.
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2   32 int8 qs[32]      codes, in value order
/// </code>
/// </summary>
public static class Q8_0
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 34;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the signed codes.</summary>
    public const int OffsetQs = 2;

    /// <summary>dequantize_row_q8_0.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        LegacyQuant.DequantizeQ8(src, dst, BlockBytes, OffsetD, OffsetQs);

    /// <summary>
    /// quantize_row_q8_0_ref (what llama-quantize writes): d = amax/127, codes = roundf(x·(1/d)), i.e.
    /// halfway cases rounded away from zero.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float d = LegacyQuant.Q8Reference(src.Slice(i * BlockSize, BlockSize), b.Slice(OffsetQs, 32), out _);
            Fp16.Write(b, OffsetD, d);
        }
    }

    /// <summary>
    /// quantize_row_q8_0 in ggml-cpu/arch/x86/quants.c (AVX/AVX2 path, used for activations): d = amax/127
    /// stored as f16 by F16C, multiplier 127/amax (not 1/d), rounding to nearest even (<c>_mm256_round_ps</c>
    /// with _MM_ROUND_NEAREST), then saturating packs to int8.
    /// </summary>
    public static void QuantizeActivationX86(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        for (int i = 0; i < nb; i++)
        {
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float d = LegacyQuant.Q8X86(src.Slice(i * BlockSize, BlockSize), b.Slice(OffsetQs, 32), out _);
            BinaryPrimitives.WriteUInt16LittleEndian(b[OffsetD..], Fp16.FromSingleF16C(d));
        }
    }

    /// <summary>ggml_vec_dot_q8_0_q8_0 (generic scalar order): sumf += sumi·(dx·dy) per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, BlockBytes);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ReadOnlySpan<byte> bx = x.Slice(ib * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(ib * BlockBytes, BlockBytes);
            int sumi = 0;
            for (int j = 0; j < BlockSize; j++) sumi += (sbyte)bx[OffsetQs + j] * (sbyte)by[OffsetQs + j];
            sumf += sumi * (Fp16.Read(bx, OffsetD) * Fp16.Read(by, OffsetD));
        }
        return sumf;
    }
}
