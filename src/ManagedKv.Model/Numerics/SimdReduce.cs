namespace ManagedKv.Model.Numerics;

/// <summary>
/// The horizontal reductions of x86 SIMD registers in the exact association order that llama.cpp's
/// golden build (GCC 12, AVX-512) executes them. Float addition is not associative, so summing the same lanes
/// in another order changes the last bits; these helpers take the register's lanes as a span.
/// </summary>
public static class SimdReduce
{
    /// <summary>
    /// <c>_mm512_reduce_add_ps</c> as GCC 12's avx512fintrin.h defines it: the upper 256 bits are added to the
    /// lower 256 (lane i + lane i+8), then the upper 128 to the lower 128, then lanes {2,3} to {0,1}, then
    /// lane 1 to lane 0. <paramref name="lanes"/> must hold 16 values.
    /// </summary>
    public static float ReduceAdd16(ReadOnlySpan<float> lanes)
    {
        if (lanes.Length != 16) throw new ArgumentException("an __m512 has 16 lanes", nameof(lanes));
        // __T3 = hi256 + lo256
        float t0 = lanes[8] + lanes[0], t1 = lanes[9] + lanes[1], t2 = lanes[10] + lanes[2], t3 = lanes[11] + lanes[3];
        float t4 = lanes[12] + lanes[4], t5 = lanes[13] + lanes[5], t6 = lanes[14] + lanes[6], t7 = lanes[15] + lanes[7];
        // __T6 = hi128(__T3) + lo128(__T3)
        float u0 = t4 + t0, u1 = t5 + t1, u2 = t6 + t2, u3 = t7 + t3;
        // __T8 = __T6 + shuffle(__T6, {2,3,0,1}); result = __T8[0] + __T8[1]
        float v0 = u0 + u2, v1 = u1 + u3;
        return v0 + v1;
    }

    /// <summary>
    /// <c>hsum_float_8</c> of ggml-cpu's x86 quants.c and llamafile's <c>hsum(__m256)</c>: the upper 128 bits
    /// added to the lower 128, then <c>movehl</c> (lanes {2,3} onto {0,1}), then <c>movehdup</c> (lane 1 onto
    /// lane 0). Lane for lane the same order as <see cref="ReduceAdd16"/>'s last three steps.
    /// <paramref name="lanes"/> must hold 8 values.
    /// </summary>
    public static float HorizontalSum8(ReadOnlySpan<float> lanes)
    {
        if (lanes.Length != 8) throw new ArgumentException("an __m256 has 8 lanes", nameof(lanes));
        float u0 = lanes[4] + lanes[0], u1 = lanes[5] + lanes[1], u2 = lanes[6] + lanes[2], u3 = lanes[7] + lanes[3];
        float v0 = u0 + u2, v1 = u1 + u3;
        return v0 + v1;
    }

    /// <summary>
    /// The first steps of <c>GGML_F32x16_REDUCE</c> over ggml's four 16-lane accumulators (laid out one after
    /// the other in <paramref name="acc"/>, 64 values): 0 += 2 and 1 += 3, then 0 += 1, lane by lane. The result
    /// is in the first 16 values.
    /// </summary>
    public static void FoldFour(Span<float> acc)
    {
        for (int l = 0; l < 16; l++)
        {
            acc[l] += acc[32 + l];
            acc[16 + l] += acc[48 + l];
        }
        for (int l = 0; l < 16; l++) acc[l] += acc[16 + l];
    }
}
