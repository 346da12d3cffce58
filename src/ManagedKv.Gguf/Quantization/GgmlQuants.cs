namespace ManagedKv.Gguf;

/// <summary>
/// Row-level entry points to the scalar reference (de)quantisers of ggml tensor types. Dequantisation is
/// bit-exact with ggml's <c>dequantize_row_*</c> / <c>to_float</c>; quantisation reproduces the bytes
/// <c>llama-quantize</c> writes without an importance matrix (<c>quantize_row_*_ref</c>,
/// <c>ggml_fp32_to_fp16_row</c>, <c>ggml_fp32_to_bf16_row_ref</c>). The per-format classes
/// (<see cref="Q4_0"/>, <see cref="Q4K"/>, …) document each block layout.
/// </summary>
public static class GgmlQuants
{
    /// <summary>True when <see cref="DequantizeRow"/> supports <paramref name="type"/>.</summary>
    public static bool CanDequantize(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1 or
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        _ => false,
    };

    /// <summary>
    /// Decodes one row. <paramref name="dst"/>'s length is the number of values and must be a multiple of
    /// the type's block size; <paramref name="src"/> must hold exactly that many values' bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    /// <exception cref="NotSupportedException">The type has no dequantiser here.</exception>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32: FloatFormats.DequantizeF32(src, dst); break;
            case GgmlType.F16: FloatFormats.DequantizeF16(src, dst); break;
            case GgmlType.BF16: FloatFormats.DequantizeBf16(src, dst); break;
            case GgmlType.Q4_0: Q4_0.Dequantize(src, dst); break;
            case GgmlType.Q4_1: Q4_1.Dequantize(src, dst); break;
            case GgmlType.Q5_0: Q5_0.Dequantize(src, dst); break;
            case GgmlType.Q5_1: Q5_1.Dequantize(src, dst); break;
            case GgmlType.Q8_0: Q8_0.Dequantize(src, dst); break;
            case GgmlType.Q8_1: Q8_1.Dequantize(src, dst); break;
            case GgmlType.Q2_K: Q2K.Dequantize(src, dst); break;
            case GgmlType.Q3_K: Q3K.Dequantize(src, dst); break;
            case GgmlType.Q4_K: Q4K.Dequantize(src, dst); break;
            case GgmlType.Q5_K: Q5K.Dequantize(src, dst); break;
            case GgmlType.Q6_K: Q6K.Dequantize(src, dst); break;
            case GgmlType.Q8_K: Q8K.Dequantize(src, dst); break;
            default: throw Unsupported(type, "dequantisation");
        }
    }

    /// <summary>True when <see cref="QuantizeRow"/> supports <paramref name="type"/>.</summary>
    public static bool CanQuantize(GgmlType type) => CanDequantize(type); // every type here goes both ways

    /// <summary>
    /// Encodes one row with llama.cpp's reference quantiser for <paramref name="type"/> (the <c>*_ref</c>
    /// functions; what llama-quantize writes with no importance matrix). <paramref name="src"/>'s length
    /// must be a multiple of the block size and <paramref name="dst"/> exactly the row's byte size.
    /// Rows are independent, so a whole tensor can be passed as one long row.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    /// <exception cref="NotSupportedException">The type has no quantiser here.</exception>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case GgmlType.F32: FloatFormats.QuantizeF32(src, dst); break;
            case GgmlType.F16: FloatFormats.QuantizeF16(src, dst); break;
            case GgmlType.BF16: FloatFormats.QuantizeBf16(src, dst); break;
            case GgmlType.Q4_0: Q4_0.QuantizeReference(src, dst); break;
            case GgmlType.Q4_1: Q4_1.QuantizeReference(src, dst); break;
            case GgmlType.Q5_0: Q5_0.QuantizeReference(src, dst); break;
            case GgmlType.Q5_1: Q5_1.QuantizeReference(src, dst); break;
            case GgmlType.Q8_0: Q8_0.QuantizeReference(src, dst); break;
            case GgmlType.Q8_1: Q8_1.QuantizeReference(src, dst); break;
            case GgmlType.Q2_K: Q2K.QuantizeReference(src, dst); break;
            case GgmlType.Q3_K: Q3K.QuantizeReference(src, dst); break;
            case GgmlType.Q4_K: Q4K.QuantizeReference(src, dst); break;
            case GgmlType.Q5_K: Q5K.QuantizeReference(src, dst); break;
            case GgmlType.Q6_K: Q6K.QuantizeReference(src, dst); break;
            case GgmlType.Q8_K: Q8K.QuantizeReference(src, dst); break;
            default: throw Unsupported(type, "quantisation");
        }
    }

    internal static NotSupportedException Unsupported(GgmlType type, string what) =>
        new($"{what} of ggml type {type} ({(uint)type}) is not implemented");
}
