using System.Buffers.Binary;

namespace ManagedKv.Gguf;

/// <summary>Row conversions and dot products for the unquantised element types F32, F16 and BF16.</summary>
internal static class FloatFormats
{
    /// <summary>Little-endian f32 bytes to floats.</summary>
    public static void DequantizeF32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Rows.Check(src, dst.Length, 1, 4);
        for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
    }

    /// <summary>Floats to little-endian f32 bytes.</summary>
    public static void QuantizeF32(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Rows.Check(dst, src.Length, 1, 4);
        for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
    }

    /// <summary>ggml_fp16_to_fp32_row.</summary>
    public static void DequantizeF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Rows.Check(src, dst.Length, 1, 2);
        for (int i = 0; i < dst.Length; i++) dst[i] = Fp16.Read(src, 2 * i);
    }

    /// <summary>ggml_fp32_to_fp16_row (what llama-quantize writes for F16).</summary>
    public static void QuantizeF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Rows.Check(dst, src.Length, 1, 2);
        for (int i = 0; i < src.Length; i++) Fp16.Write(dst, 2 * i, src[i]);
    }

    /// <summary>ggml_bf16_to_fp32_row.</summary>
    public static void DequantizeBf16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Rows.Check(src, dst.Length, 1, 2);
        for (int i = 0; i < dst.Length; i++) dst[i] = Bf16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
    }

    /// <summary>ggml_fp32_to_bf16_row_ref (what llama-quantize writes for BF16).</summary>
    public static void QuantizeBf16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Rows.Check(dst, src.Length, 1, 2);
        for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], Bf16.FromSingle(src[i]));
    }

    /// <summary>ggml_vec_dot_f32, scalar path: f32 products accumulated in f64 (ggml_float), rounded once.</summary>
    public static float DotF32(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        Rows.CheckDot(x, y, 4, 4);
        double sum = 0;
        for (int i = 0; i < x.Length; i += 4)
            sum += BinaryPrimitives.ReadSingleLittleEndian(x[i..]) * BinaryPrimitives.ReadSingleLittleEndian(y[i..]);
        return (float)sum;
    }

    /// <summary>ggml_vec_dot_f16, scalar path: f32 products of the widened halves accumulated in f64.</summary>
    public static float DotF16(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        Rows.CheckDot(x, y, 2, 2);
        double sum = 0;
        for (int i = 0; i < x.Length; i += 2) sum += Fp16.Read(x, i) * Fp16.Read(y, i);
        return (float)sum;
    }

    /// <summary>ggml_vec_dot_bf16, scalar path: f32 products of the widened bf16 values accumulated in f64.</summary>
    public static float DotBf16(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        Rows.CheckDot(x, y, 2, 2);
        double sum = 0;
        for (int i = 0; i < x.Length; i += 2)
            sum += Bf16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(x[i..])) * Bf16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(y[i..]));
        return (float)sum;
    }
}
