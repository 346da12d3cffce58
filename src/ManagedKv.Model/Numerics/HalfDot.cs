using ManagedKv.Gguf;

namespace ManagedKv.Model.Numerics;

/// <summary>
/// Dot products of F16 and BF16 rows (weights and the activation converted to the same type) as llama.cpp's
/// golden build runs them: <c>ggml_vec_dot_f16</c>/<c>ggml_vec_dot_bf16</c> for a single row,
/// llamafile's tinyBLAS for batches (<see cref="CpuMatMul"/>). Rows are the raw 16-bit patterns.
/// </summary>
public static class HalfDot
{
    /// <summary>
    /// <c>ggml_vec_dot_f16</c>, AVX-512 without AVX512-FP16 (the <c>GGML_F32Cx16</c> mapping): halves are
    /// widened with <c>vcvtph2ps</c> and accumulated exactly like <see cref="F32Dot.VecDot"/>'s four 16-lane
    /// FMA accumulators; the reduced value is widened to f64, the leftover products (rounded in f32) are added
    /// in f64, and the sum is rounded to f32 once at the end.
    /// </summary>
    public static float VecDotF16(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y)
    {
        int n = F32Dot.CheckLengths(x, y);
        int np = n & ~63;
        double sumf = 0;
        if (np > 0)
        {
            Span<float> acc = stackalloc float[64];
            acc.Clear();
            for (int i = 0; i < np; i += 64)
                for (int k = 0; k < 64; k++) acc[k] = MathF.FusedMultiplyAdd(Fp16.ToSingle(x[i + k]), Fp16.ToSingle(y[i + k]), acc[k]);
            SimdReduce.FoldFour(acc);
            sumf = SimdReduce.ReduceAdd16(acc[..16]);
        }
        for (int i = np; i < n; i++) sumf += Fp16.ToSingle(x[i]) * Fp16.ToSingle(y[i]);
        return (float)sumf;
    }

    /// <summary>
    /// One element of llamafile's <c>tinyBLAS&lt;16, __m512, __m512, ggml_fp16_t, ggml_fp16_t, float&gt;</c>:
    /// <see cref="F32Dot.TinyBlas"/> on the widened halves. The length must be a multiple of 16.
    /// </summary>
    public static float TinyBlasF16(ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b)
    {
        int k = F32Dot.CheckLengths(a, b);
        if (k % 16 != 0) throw new ArgumentException($"tinyBLAS f16 needs a multiple of 16 elements, got {k}", nameof(a));
        Span<float> acc = stackalloc float[16];
        acc.Clear();
        for (int l = 0; l < k; l += 16)
            for (int t = 0; t < 16; t++) acc[t] = MathF.FusedMultiplyAdd(Fp16.ToSingle(a[l + t]), Fp16.ToSingle(b[l + t]), acc[t]);
        return SimdReduce.ReduceAdd16(acc);
    }

    /// <summary>
    /// <c>ggml_vec_dot_bf16</c>, AVX512-BF16 branch: two accumulators take <c>vdpbf16ps</c> of the first and
    /// second 32-element halves of every 64-element step; each is <c>_mm512_reduce_add_ps</c>'d and added to
    /// an f64 sum (first, then second), the leftover products (rounded in f32) are added in f64, and the sum is
    /// rounded to f32 once.
    /// </summary>
    public static float VecDotBf16(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y)
    {
        int n = F32Dot.CheckLengths(x, y);
        Span<float> c1 = stackalloc float[16];
        Span<float> c2 = stackalloc float[16];
        c1.Clear();
        c2.Clear();
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            DotProductBf16(c1, x.Slice(i, 32), y.Slice(i, 32));
            DotProductBf16(c2, x.Slice(i + 32, 32), y.Slice(i + 32, 32));
        }
        double sumf = 0;
        sumf += SimdReduce.ReduceAdd16(c1);
        sumf += SimdReduce.ReduceAdd16(c2);
        for (; i < n; i++) sumf += Bf16.ToSingle(x[i]) * Bf16.ToSingle(y[i]);
        return (float)sumf;
    }

    /// <summary>
    /// One element of llamafile's <c>tinyBLAS&lt;32, __m512, __m512bh, ggml_bf16_t, ggml_bf16_t, float&gt;</c>
    /// (AVX512-BF16): one accumulator takes <c>vdpbf16ps</c> of every 32-element step, then
    /// <c>_mm512_reduce_add_ps</c>. The length must be a multiple of 32.
    /// </summary>
    public static float TinyBlasBf16(ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b)
    {
        int k = F32Dot.CheckLengths(a, b);
        if (k % 32 != 0) throw new ArgumentException($"tinyBLAS bf16 needs a multiple of 32 elements, got {k}", nameof(a));
        Span<float> acc = stackalloc float[16];
        acc.Clear();
        for (int l = 0; l < k; l += 32) DotProductBf16(acc, a.Slice(l, 32), b.Slice(l, 32));
        return SimdReduce.ReduceAdd16(acc);
    }

    /// <summary>
    /// The <c>vdpbf16ps</c> instruction on one register: for every lane j, <c>acc[j] += a[2j+1]·b[2j+1]</c>
    /// then <c>acc[j] += a[2j]·b[2j]</c>, each a single rounding to nearest even (the bf16 products are exact in
    /// f32), with denormal inputs read as zero and denormal results flushed to zero (Intel SDM; checked on the
    /// AMD EPYC that produced the goldens). <paramref name="acc"/> has 16 lanes, the rows 32 elements.
    /// </summary>
    public static void DotProductBf16(Span<float> acc, ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b)
    {
        if (acc.Length != 16 || a.Length != 32 || b.Length != 32) throw new ArgumentException("vdpbf16ps works on 16 f32 lanes and 32 bf16 pairs");
        for (int j = 0; j < 16; j++)
        {
            float s = FlushDenormal(acc[j]);
            s = FlushDenormal(MathF.FusedMultiplyAdd(FlushDenormal(Bf16.ToSingle(a[2 * j + 1])), FlushDenormal(Bf16.ToSingle(b[2 * j + 1])), s));
            s = FlushDenormal(MathF.FusedMultiplyAdd(FlushDenormal(Bf16.ToSingle(a[2 * j])), FlushDenormal(Bf16.ToSingle(b[2 * j])), s));
            acc[j] = s;
        }
    }

    private static float FlushDenormal(float v) => float.IsSubnormal(v) ? MathF.CopySign(0f, v) : v;
}
