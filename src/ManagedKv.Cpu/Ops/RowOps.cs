using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>gate = gate / (1 + exp(−gate)) · up, using <paramref name="scratch"/> (n floats) for exp(−gate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SwiGlu(float* gate, float* up, int n, float* scratch)
    {
        var g = new Span<float>(gate, n);
        var e = new Span<float>(scratch, n);
        TensorPrimitives.Negate(g, e);
        TensorPrimitives.Exp(e, e);
        int i = 0;
        if (Avx.IsSupported)
        {
            var one = Vector256.Create(1.0f);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Avx.LoadVector256(gate + i);
                Avx.Store(gate + i, Avx.Multiply(Avx.Divide(v, Avx.Add(one, Avx.LoadVector256(scratch + i))), Avx.LoadVector256(up + i)));
            }
        }
        for (; i < n; i++) gate[i] = gate[i] / (1.0f + scratch[i]) * up[i];
    }
}
