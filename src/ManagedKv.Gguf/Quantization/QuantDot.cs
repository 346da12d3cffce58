namespace ManagedKv.Gguf;

/// <summary>
/// Scalar reference dot products between one weight row and one activation row already converted to the
/// weight type's vec_dot type — the oracle for optimised kernels. Each follows the summation order of
/// ggml-cpu's generic <c>ggml_vec_dot_&lt;type&gt;_&lt;vec dot type&gt;</c> (integer sums per block, then f32
/// accumulation; F32/F16/BF16 accumulate in f64 like the scalar <c>ggml_vec_dot_f32/f16/bf16</c>), without
/// FMA contraction. llama.cpp's AVX2/AVX-512 kernels (and llamafile's tinyBLAS, and the repacked Q4_0/Q4_K
/// paths) use other association orders and FMAs, so results agree with those to rounding, not bit for bit.
/// </summary>
public static class QuantDot
{
    /// <summary>
    /// The type ggml-cpu converts activations to for a dot product with <paramref name="weightType"/>:
    /// Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, and the weight type itself for
    /// F32, F16 and BF16.
    /// </summary>
    /// <exception cref="NotSupportedException">No dot product is implemented for the type.</exception>
    public static GgmlType VecDotType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => GgmlType.F32,
        GgmlType.F16 => GgmlType.F16,
        GgmlType.BF16 => GgmlType.BF16,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => throw GgmlQuants.Unsupported(weightType, "dot product"),
    };

    /// <summary>
    /// Dot product of a weight row of <paramref name="weightType"/> with an activation row in
    /// <see cref="VecDotType"/>(<paramref name="weightType"/>). Both rows must cover the same number of values.
    /// </summary>
    /// <exception cref="ArgumentException">The rows' lengths do not match whole, equal numbers of blocks.</exception>
    /// <exception cref="NotSupportedException">No dot product is implemented for the type.</exception>
    public static float Dot(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRowInVecDotType) =>
        weightType switch
        {
            GgmlType.F32 => FloatFormats.DotF32(weightRow, activationRowInVecDotType),
            GgmlType.F16 => FloatFormats.DotF16(weightRow, activationRowInVecDotType),
            GgmlType.BF16 => FloatFormats.DotBf16(weightRow, activationRowInVecDotType),
            GgmlType.Q4_0 => Q4_0.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q4_1 => Q4_1.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q5_0 => Q5_0.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q5_1 => Q5_1.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q8_0 => Q8_0.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q2_K => Q2K.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q3_K => Q3K.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q4_K => Q4K.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q5_K => Q5K.Dot(weightRow, activationRowInVecDotType),
            GgmlType.Q6_K => Q6K.Dot(weightRow, activationRowInVecDotType),
            _ => throw GgmlQuants.Unsupported(weightType, "dot product"),
        };
}
