namespace ManagedKv.Gguf;

/// <summary>
/// bfloat16 conversions exactly as ggml's <c>GGML_FP32_TO_BF16</c> / <c>GGML_BF16_TO_FP32</c>
/// (ggml-impl.h, <c>ggml_compute_fp32_to_bf16</c>): round to nearest, ties to even, by adding
/// <c>0x7FFF + lsb</c> to the f32 bits and keeping the top half; a NaN keeps its top 16 bits with the quiet
/// bit (0x40) forced on. Subnormals are not flushed (current ggml; versions before mid-2024 flushed them).
/// bf16 → f32 is a 16-bit shift.
/// </summary>
public static class Bf16
{
    /// <summary>Converts the raw bits of a bf16 to f32 (shift left by 16; exact).</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Converts f32 to the raw bits of a bf16 exactly as ggml_compute_fp32_to_bf16.</summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFF) > 0x7F800000)
            return (ushort)((u >> 16) | 64); // NaN: truncate and force quiet
        // The addition cannot overflow 32 bits: the largest finite f32 plus 0x8000 is below 2^32.
        return (ushort)((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
    }
}
