namespace ManagedKv.Model.Numerics;

/// <summary>
/// Row operations of ggml-cpu's vec.cpp as the golden build (AVX-512F + DQ) runs them: 16-element chunks
/// through the vectorised kernels of <see cref="GgmlExp"/>, the remaining elements through the scalar C code.
/// </summary>
public static class GgmlVec
{
    /// <summary>
    /// <c>ggml_vec_soft_max_f32</c>: y[i] = exp(x[i] − max) with <see cref="GgmlExp.ExpF"/> for every whole
    /// 16-element chunk (each chunk's <c>_mm512_reduce_add_ps</c> added to an f64 sum) and <c>expf</c> for the
    /// rest (added one by one in f64). Returns the f64 sum; the caller scales by (float)(1/sum) as ggml does.
    /// </summary>
    public static double SoftMaxExp(ReadOnlySpan<float> x, Span<float> y, float max)
    {
        if (y.Length < x.Length) throw new ArgumentException("destination shorter than source", nameof(y));
        int n = x.Length, i = 0;
        double sum = 0;
        for (; i + 15 < n; i += 16)
        {
            for (int t = 0; t < 16; t++) y[i + t] = GgmlExp.ExpF(x[i + t] - max);
            sum += SimdReduce.ReduceAdd16(y.Slice(i, 16));
        }
        for (; i < n; i++)
        {
            float v = MathF.Exp(x[i] - max);
            sum += v;
            y[i] = v;
        }
        return sum;
    }

    /// <summary>
    /// <c>ggml_vec_swiglu_f32</c>: y[i] = silu(x[i])·g[i], with <see cref="GgmlExp.Silu"/> for whole 16-element
    /// chunks and <see cref="GgmlExp.SiluScalar"/> for the rest. y may alias x.
    /// </summary>
    public static void SwiGlu(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> y)
    {
        if (g.Length < x.Length || y.Length < x.Length) throw new ArgumentException("rows of different lengths");
        int n = x.Length, i = 0;
        for (; i + 15 < n; i += 16)
            for (int t = 0; t < 16; t++) y[i + t] = GgmlExp.Silu(x[i + t]) * g[i + t];
        for (; i < n; i++) y[i] = GgmlExp.SiluScalar(x[i]) * g[i];
    }
}
