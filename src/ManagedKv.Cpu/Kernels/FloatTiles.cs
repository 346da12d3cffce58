using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Generic kernels for unquantised weights against f32 activations (already rounded to f16/bf16 where the
/// weight type asks for it, as ggml converts src1 to the vec_dot type). Per (row, token) pair: one 8-lane FMA
/// accumulator over the row, <see cref="Simd.Sum8"/>, then the remaining (k mod 8) products added in order.
/// </summary>
internal static unsafe class FloatTiles
{
    /// <summary>Computes the output block [t0, t1) × [o0, o1).</summary>
    public static void Compute<TF>(in MatMulArgs args, int o0, int o1, int t0, int t1) where TF : struct, IFloatRow
    {
        var act = args.Act;
        for (int o = o0; o < o1; o += 4)
        {
            MatMulKernel.Rows4(args, o, o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3);
            int t = t0;
            for (; t + 4 <= t1; t += 4) Tile4x4<TF>(args, w0, w1, w2, w3, act, t, o, o1);
            for (; t < t1; t++)
            {
                float* x = act.Floats + (long)t * act.K;
                MatMulKernel.Store(args, t, o, o1, Row<TF>(w0, x, act.K), Row<TF>(w1, x, act.K), Row<TF>(w2, x, act.K), Row<TF>(w3, x, act.K));
            }
        }
    }

    /// <summary>One pair; written so that four calls on independent rows overlap well (decoding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Row<TF>(byte* w, float* x, int k) where TF : struct, IFloatRow
    {
        Vector256<float> acc = default;
        int i = 0;
        for (; i + 8 <= k; i += 8) acc = Fma.MultiplyAdd(TF.Load8(w, i), Avx.LoadVector256(x + i), acc);
        float r = Simd.Sum8(acc);
        for (; i < k; i++) r += TF.Load1(w, i) * x[i];
        return r;
    }

    private static void Tile4x4<TF>(in MatMulArgs args, byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, int o, int o1)
        where TF : struct, IFloatRow
    {
        int k = act.K;
        float* x0 = act.Floats + (long)t * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        int i = 0;
        for (; i + 8 <= k; i += 8)
        {
            Vector256<float> v0 = TF.Load8(w0, i), v1 = TF.Load8(w1, i), v2 = TF.Load8(w2, i), v3 = TF.Load8(w3, i);
            Vector256<float> x = Avx.LoadVector256(x0 + i);
            a00 = Fma.MultiplyAdd(v0, x, a00); a10 = Fma.MultiplyAdd(v1, x, a10); a20 = Fma.MultiplyAdd(v2, x, a20); a30 = Fma.MultiplyAdd(v3, x, a30);
            x = Avx.LoadVector256(x1 + i);
            a01 = Fma.MultiplyAdd(v0, x, a01); a11 = Fma.MultiplyAdd(v1, x, a11); a21 = Fma.MultiplyAdd(v2, x, a21); a31 = Fma.MultiplyAdd(v3, x, a31);
            x = Avx.LoadVector256(x2 + i);
            a02 = Fma.MultiplyAdd(v0, x, a02); a12 = Fma.MultiplyAdd(v1, x, a12); a22 = Fma.MultiplyAdd(v2, x, a22); a32 = Fma.MultiplyAdd(v3, x, a32);
            x = Avx.LoadVector256(x3 + i);
            a03 = Fma.MultiplyAdd(v0, x, a03); a13 = Fma.MultiplyAdd(v1, x, a13); a23 = Fma.MultiplyAdd(v2, x, a23); a33 = Fma.MultiplyAdd(v3, x, a33);
        }
        MatMulKernel.Store(args, t, o, o1, Finish<TF>(a00, w0, x0, i, k), Finish<TF>(a10, w1, x0, i, k), Finish<TF>(a20, w2, x0, i, k), Finish<TF>(a30, w3, x0, i, k));
        MatMulKernel.Store(args, t + 1, o, o1, Finish<TF>(a01, w0, x1, i, k), Finish<TF>(a11, w1, x1, i, k), Finish<TF>(a21, w2, x1, i, k), Finish<TF>(a31, w3, x1, i, k));
        MatMulKernel.Store(args, t + 2, o, o1, Finish<TF>(a02, w0, x2, i, k), Finish<TF>(a12, w1, x2, i, k), Finish<TF>(a22, w2, x2, i, k), Finish<TF>(a32, w3, x2, i, k));
        MatMulKernel.Store(args, t + 3, o, o1, Finish<TF>(a03, w0, x3, i, k), Finish<TF>(a13, w1, x3, i, k), Finish<TF>(a23, w2, x3, i, k), Finish<TF>(a33, w3, x3, i, k));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TF>(Vector256<float> acc, byte* w, float* x, int i, int k) where TF : struct, IFloatRow
    {
        float r = Simd.Sum8(acc);
        for (; i < k; i++) r += TF.Load1(w, i) * x[i];
        return r;
    }
}
