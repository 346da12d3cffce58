using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q8_1</c>: 32 values in 36 bytes, x = d·q, plus s = d·Σq so that a dot product with an
/// offset format (Q4_1, Q5_1) can add m·s instead of summing the activation again. Activation type only.
/// <code>
/// offset size field
///      0    2 ggml_half d      scale
///      2    2 ggml_half s      d · (sum of the 32 codes)
///      4   32 int8 qs[32]      codes, in value order
/// </code>
/// </summary>
public static class Q8_1
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 36;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 0;
    /// <summary>Offset of the f16 scaled code sum.</summary>
    public const int OffsetS = 2;
    /// <summary>Offset of the signed codes.</summary>
    public const int OffsetQs = 4;

    /// <summary>
    /// x = d·q. ggml itself has no dequantize_row_q8_1 (it never stores Q8_1 tensors); this is the
    /// obvious inverse, for tests and inspection.
    /// </summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyQuant.Dequantize<Format>(src, dst);

    /// <summary>
    /// quantize_row_q8_1_ref: as Q8_0's reference (codes = roundf(x/d), halves away from zero) plus
    /// s = f16(Σq · d).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeQ8<Format>(src, dst, activationX86: false);

    /// <summary>
    /// quantize_row_q8_1 in ggml-cpu/arch/x86/quants.c (AVX2 path, used for activations): like
    /// <see cref="Q8_0.QuantizeActivationX86"/> (multiplier 127/amax, round to nearest even, saturating
    /// packs) plus s = f16(d · Σ of the rounded int32 lanes, taken before the int8 packs), both halves
    /// converted by F16C.
    /// </summary>
    public static void QuantizeActivationX86(ReadOnlySpan<float> src, Span<byte> dst) =>
        LegacyQuant.QuantizeQ8<Format>(src, dst, activationX86: true);

    /// <summary>This layout for the shared loops of <see cref="LegacyQuant"/>.</summary>
    internal readonly struct Format : IQ8Format
    {
        public static int BlockSize => Q8_1.BlockSize;
        public static int BlockBytes => Q8_1.BlockBytes;
        public static int OffsetD => Q8_1.OffsetD;
        public static int OffsetQs => Q8_1.OffsetQs;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) =>
            MemoryMarshal.Cast<byte, sbyte>(block.Slice(OffsetQs, Q8_1.BlockSize)).CopyTo(q);
        public static void WriteScales(Span<byte> block, ushort d, ushort s)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(block[OffsetD..], d);
            BinaryPrimitives.WriteUInt16LittleEndian(block[OffsetS..], s);
        }
    }
}
