namespace ManagedKv.Gguf;

/// <summary>
/// What ggml-cpu does to an f32 activation row before a quantised dot product on x86 with AVX2/AVX-512
/// (the <c>from_float</c> of the weight type's <c>vec_dot_type</c>, ggml-cpu/arch/x86/quants.c). These
/// differ from the weight reference quantisers in <see cref="GgmlQuants"/>: Q8_0/Q8_1 multiply by 127/amax
/// and round halves to even, where the references multiply by 1/d and round halves away from zero.
/// When llama.cpp repacks Q4_0/Q4_K weights (CPU_REPACK), activations go through
/// <c>ggml_quantize_mat_q8_0_4x8</c> / <c>ggml_quantize_mat_q8_K_4x8</c> instead; on AVX2 those use the same
/// arithmetic, except that the q8_K one picks the multiplier's sign from whether +amax occurs, so a block
/// holding both +amax and −amax gets d and all codes negated (d·q, bsums·d and every dot product are
/// unchanged).
/// </summary>
public static class ActivationQuants
{
    /// <summary>
    /// x86 <c>quantize_row_q8_0</c> (AVX2 path): d = f16(amax/127); q = saturate(RNE(x·(127/amax))).
    /// <paramref name="dst"/> must hold src.Length/32 blocks of 34 bytes.
    /// </summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> src, Span<byte> dst) => Q8_0.QuantizeActivationX86(src, dst);

    /// <summary>
    /// x86 <c>quantize_row_q8_1</c> (AVX2 path): as <see cref="QuantizeQ8_0"/> plus s = f16(d·Σq).
    /// <paramref name="dst"/> must hold src.Length/32 blocks of 36 bytes.
    /// </summary>
    public static void QuantizeQ8_1(ReadOnlySpan<float> src, Span<byte> dst) => Q8_1.QuantizeActivationX86(src, dst);

    /// <summary>
    /// x86 <c>quantize_row_q8_K</c>, which calls <c>quantize_row_q8_K_ref</c>: iscale = −127/max with max the
    /// signed value of largest magnitude, q = min(127, RNE(iscale·x)), d = 1/iscale (f32), 16 group sums.
    /// <paramref name="dst"/> must hold src.Length/256 blocks of 292 bytes.
    /// </summary>
    public static void QuantizeQ8_K(ReadOnlySpan<float> src, Span<byte> dst) => Q8K.QuantizeReference(src, dst);

    /// <summary>
    /// Converts an activation row to the vec_dot type of <paramref name="weightType"/>
    /// (<see cref="QuantDot.VecDotType"/>): F32 is copied, F16 and BF16 are rounded to nearest even, the
    /// Q8 types use the x86 paths above.
    /// </summary>
    public static void Quantize(GgmlType weightType, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (QuantDot.VecDotType(weightType))
        {
            case GgmlType.F32: FloatFormats.QuantizeF32(src, dst); break;
            case GgmlType.F16: FloatFormats.QuantizeF16(src, dst); break;
            case GgmlType.BF16: FloatFormats.QuantizeBf16(src, dst); break;
            case GgmlType.Q8_0: QuantizeQ8_0(src, dst); break;
            case GgmlType.Q8_1: QuantizeQ8_1(src, dst); break;
            case GgmlType.Q8_K: QuantizeQ8_K(src, dst); break;
            default: throw GgmlQuants.Unsupported(weightType, "activation quantisation");
        }
    }
}
