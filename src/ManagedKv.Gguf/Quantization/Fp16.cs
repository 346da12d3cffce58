namespace ManagedKv.Gguf;

/// <summary>
/// IEEE binary16 conversions exactly as ggml performs them. f32 → f16 rounds to nearest, ties to even
/// (what ggml's software <c>ggml_compute_fp32_to_fp16</c> and the F16C instruction <c>vcvtps2ph</c> both do);
/// overflow goes to ±infinity and subnormal halves are produced, not flushed. The two differ only for NaN:
/// the software conversion in ggml-base (GGML_FP32_TO_FP16, which <c>llama-quantize</c> runs) returns the
/// canonical quiet NaN <c>0x7E00</c> with the input's sign (<see cref="FromSingle"/>), while ggml-cpu on x86
/// (GGML_CPU_FP32_TO_FP16 = F16C) keeps the top 10 payload bits (<see cref="FromSingleF16C"/>).
/// f16 → f32 is exact.
/// </summary>
public static class Fp16
{
    /// <summary>Converts the raw bits of a half to f32 (exact).</summary>
    public static float ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>Converts f32 to the raw bits of a half, round-to-nearest-even (GGML_FP32_TO_FP16).</summary>
    public static ushort FromSingle(float value)
    {
        if (float.IsNaN(value))
        {
            // ggml_compute_fp32_to_fp16 returns sign | 0x7E00 for every NaN (the payload is dropped).
            return (ushort)((BitConverter.SingleToUInt32Bits(value) >> 16) & 0x8000 | 0x7E00);
        }
        // System.Half's explicit conversion is correctly rounded (RNE), like F16C with imm8 = 0.
        return BitConverter.HalfToUInt16Bits((Half)value);
    }

    /// <summary>
    /// Converts f32 to the raw bits of a half as the F16C instruction does (GGML_CPU_FP32_TO_FP16 on x86,
    /// used when ggml-cpu quantises activations): as <see cref="FromSingle"/>, but a NaN becomes
    /// sign | 0x7E00 | (top 10 bits of its payload).
    /// </summary>
    public static ushort FromSingleF16C(float value)
    {
        if (float.IsNaN(value))
        {
            uint u = BitConverter.SingleToUInt32Bits(value);
            return (ushort)(((u >> 16) & 0x8000) | 0x7E00 | ((u >> 13) & 0x3FF));
        }
        return BitConverter.HalfToUInt16Bits((Half)value);
    }

    /// <summary>Reads a little-endian half at <paramref name="offset"/> of <paramref name="bytes"/> as f32.</summary>
    public static float Read(ReadOnlySpan<byte> bytes, int offset) =>
        ToSingle(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]));

    /// <summary>Writes <paramref name="value"/> rounded to a half at <paramref name="offset"/> (little-endian).</summary>
    public static void Write(Span<byte> bytes, int offset, float value) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], FromSingle(value));

    /// <summary>
    /// Round-trips <paramref name="value"/> through a half: the value that a reader of the stored scale sees
    /// (ggml quantisers re-read their own f16 scales with GGML_FP16_TO_FP32 before using them).
    /// </summary>
    public static float Round(float value) => ToSingle(FromSingle(value));
}
