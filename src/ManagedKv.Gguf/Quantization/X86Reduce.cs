namespace ManagedKv.Gguf;

/// <summary>
/// The AVX max-abs reduction of ggml-cpu's quantize_row_q8_0/q8_1 (arch/x86/quants.c), lane for lane, so
/// that NaN inputs give the same result as the SIMD code (x86 <c>maxps</c> returns its second operand when
/// either operand is NaN, so the reduction order matters).
/// </summary>
internal static class X86Reduce
{
    /// <summary>max |x| over 32 values as the AVX code computes it.</summary>
    public static float MaxAbs32(ReadOnlySpan<float> x)
    {
        Span<float> lanes = stackalloc float[8];
        // maxAbs = andnot(sign, v0); maxAbs = max(maxAbs, andnot(sign, v1)); ... v2, v3
        for (int l = 0; l < 8; l++)
        {
            float m = MathF.Abs(x[l]);
            m = QuantMath.MaxPs(m, MathF.Abs(x[8 + l]));
            m = QuantMath.MaxPs(m, MathF.Abs(x[16 + l]));
            m = QuantMath.MaxPs(m, MathF.Abs(x[24 + l]));
            lanes[l] = m;
        }
        // max4 = max(extract_hi(maxAbs), cast_lo(maxAbs))
        float r0 = QuantMath.MaxPs(lanes[4], lanes[0]);
        float r1 = QuantMath.MaxPs(lanes[5], lanes[1]);
        float r2 = QuantMath.MaxPs(lanes[6], lanes[2]);
        float r3 = QuantMath.MaxPs(lanes[7], lanes[3]);
        // max4 = max(max4, movehl(max4, max4)): lanes 0,1 against 2,3
        r0 = QuantMath.MaxPs(r0, r2);
        r1 = QuantMath.MaxPs(r1, r3);
        // max4 = max_ss(max4, movehdup(max4)): lane 0 against lane 1
        return QuantMath.MaxPs(r0, r1);
    }
}
