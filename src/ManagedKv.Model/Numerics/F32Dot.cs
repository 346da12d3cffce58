namespace ManagedKv.Model.Numerics;

/// <summary>
/// The two f32 dot products llama.cpp's CPU backend uses, lane for lane as the golden build (GCC 12,
/// <c>-march=native</c> with AVX-512) executes them. Which one runs depends on the matrix multiplication
/// (<see cref="CpuMatMul"/>): llamafile's tinyBLAS for batches of two or more rows, <c>ggml_vec_dot_f32</c>
/// otherwise.
/// </summary>
public static class F32Dot
{
    /// <summary>
    /// <c>ggml_vec_dot_f32</c> (vec.cpp, AVX-512 branch): four 16-lane accumulators take consecutive
    /// 16-element slices of every 64-element step with FMA; they are reduced (0+2, 1+3, then 0+1) and
    /// <c>_mm512_reduce_add_ps</c>'d. The leftover loop <c>sumf += x[i]*y[i]</c> is what GCC made of it: for
    /// leftovers of 16 or more, then for 8 or more, the products are rounded (vmulps) and added one by one in
    /// order; the last fewer than 8 are fused multiply-adds.
    /// </summary>
    public static float VecDot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = CheckLengths(x, y);
        int np = n & ~63;
        float sumf = 0;
        if (np > 0)
        {
            Span<float> acc = stackalloc float[64]; // four __m512 accumulators, acc[16*j + lane]
            acc.Clear();
            for (int i = 0; i < np; i += 64)
                for (int k = 0; k < 64; k++) acc[k] = MathF.FusedMultiplyAdd(x[i + k], y[i + k], acc[k]);
            SimdReduce.FoldFour(acc);
            sumf = SimdReduce.ReduceAdd16(acc[..16]);
        }
        int i0 = np;
        int left = n - np;
        // GCC vectorised the leftover loop as an in-order reduction: whole chunks of 16, then one of 8, with
        // products rounded before each addition; the scalar epilogue (< 8 elements) was contracted to FMA.
        int rounded = (left & ~15) + ((left & 15) >= 8 ? 8 : 0);
        for (int i = i0; i < i0 + rounded; i++) sumf += x[i] * y[i];
        for (int i = i0 + rounded; i < n; i++) sumf = MathF.FusedMultiplyAdd(x[i], y[i], sumf);
        return sumf;
    }

    /// <summary>
    /// One element of llamafile's <c>tinyBLAS&lt;16, __m512, __m512, float, float, float&gt;</c>
    /// (sgemm.cpp, AVX-512F): a single 16-lane accumulator takes <c>fma(a[l+t], b[l+t], acc[t])</c> for every
    /// 16-element step l, then <c>hsum</c> = <c>_mm512_reduce_add_ps</c>. The length must be a multiple of 16
    /// (tinyBLAS declines the multiplication otherwise).
    /// </summary>
    public static float TinyBlas(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int k = CheckLengths(a, b);
        if (k % 16 != 0) throw new ArgumentException($"tinyBLAS f32 needs a multiple of 16 elements, got {k}", nameof(a));
        Span<float> acc = stackalloc float[16];
        acc.Clear();
        for (int l = 0; l < k; l += 16)
            for (int t = 0; t < 16; t++) acc[t] = MathF.FusedMultiplyAdd(a[l + t], b[l + t], acc[t]);
        return SimdReduce.ReduceAdd16(acc);
    }

    internal static int CheckLengths<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"dot product of rows of {x.Length} and {y.Length} elements");
        return x.Length;
    }
}
