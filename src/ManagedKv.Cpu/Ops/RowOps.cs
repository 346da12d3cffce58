using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Cpu.Ops;

/// <summary>Per-row element-wise operations with the reference backend's numerics.</summary>
internal static unsafe class RowOps
{
    /// <summary>
    /// y = x / rms(x) · g: squares in f32 summed in f64 (ggml's rms_norm), mean and scale in f32, then (x·scale)·g.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(float* x, float* g, float* y, int n, float eps)
    {
        double sum;
        int i = 0;
        if (Avx.IsSupported)
        {
            Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Avx.LoadVector256(x + i);
                Vector256<float> sq = Avx.Multiply(v, v);
                s0 = Avx.Add(s0, Avx.ConvertToVector256Double(sq.GetLower()));
                s1 = Avx.Add(s1, Avx.ConvertToVector256Double(sq.GetUpper()));
            }
            sum = Vector256.Sum(Avx.Add(s0, s1));
        }
        else sum = 0;
        for (; i < n; i++) sum += x[i] * x[i];
        float mean = (float)(sum / n);
        float scale = 1.0f / MathF.Sqrt(mean + eps);
        var ys = new Span<float>(y, n);
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(x, n), scale, ys);
        TensorPrimitives.Multiply(ys, new ReadOnlySpan<float>(g, n), ys);
    }

    /// <summary>
    /// gate = silu(gate) · up as ggml_vec_swiglu_f32 computes it (<see cref="GgmlVec.SwiGlu"/>): ggml's vector exp
    /// for whole 16-element chunks, the C library's expf for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SwiGlu(float* gate, float* up, int n)
    {
        if (!GgmlExpVector.IsSupported)
        {
            GgmlVec.SwiGlu(new ReadOnlySpan<float>(gate, n), new ReadOnlySpan<float>(up, n), new Span<float>(gate, n));
            return;
        }
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Avx.Store(gate + i, Avx.Multiply(GgmlExpVector.Silu(Avx.LoadVector256(gate + i)), Avx.LoadVector256(up + i)));
            Avx.Store(gate + i + 8, Avx.Multiply(GgmlExpVector.Silu(Avx.LoadVector256(gate + i + 8)), Avx.LoadVector256(up + i + 8)));
        }
        for (; i < n; i++) gate[i] = GgmlExp.SiluScalar(gate[i]) * up[i];
    }
}
