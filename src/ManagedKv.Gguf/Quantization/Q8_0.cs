using System.Buffers.Binary;
using System.Runtime.InteropServices;

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
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.Dequantize<Format>(src, dst);

    /// <summary>
    /// quantize_row_q8_0_ref (what llama-quantize writes): d = amax/127, codes = roundf(x·(1/d)), i.e.
    /// halfway cases rounded away from zero.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeQ8<Format>(src, dst, activationX86: false);

    /// <summary>
    /// quantize_row_q8_0 in ggml-cpu/arch/x86/quants.c (AVX/AVX2 path, used for activations): d = amax/127
    /// stored as f16 by F16C, multiplier 127/amax (not 1/d), rounding to nearest even (<c>_mm256_round_ps</c>
    /// with _MM_ROUND_NEAREST), then saturating packs to int8.
    /// </summary>
    public static void QuantizeActivationX86(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeQ8<Format>(src, dst, activationX86: true);

    /// <summary>ggml_vec_dot_q8_0_q8_0 (generic scalar order): sumf += sumi·(dx·dy) per block.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => LegacyQuant.DotQ8_0<Format>(x, y);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IQ8Format, IQ8_0DotFormat
    {
        public static int BlockSize => Q8_0.BlockSize;
        public static int BlockBytes => Q8_0.BlockBytes;
        public static int OffsetD => Q8_0.OffsetD;
        public static int OffsetQs => Q8_0.OffsetQs;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) =>
            MemoryMarshal.Cast<byte, sbyte>(block.Slice(OffsetQs, Q8_0.BlockSize)).CopyTo(q);
        public static void WriteScales(Span<byte> block, ushort d, ushort s) =>
            BinaryPrimitives.WriteUInt16LittleEndian(block[OffsetD..], d); // no s field
        public static float DotTerm(int sumi, float dx, float dy) => sumi * (dx * dy);
    }
}
