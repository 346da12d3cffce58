using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Generic kernels for unquantised weights against f32 activations (already rounded to f16/bf16 where the
/// weight type asks for it, as ggml converts src1 to the vec_dot type). Per output the sum follows llama.cpp's
/// tinyBLAS on AVX-512: sixteen FMA lanes, lane m collecting values ≡ m (mod 16) (for BF16, lane l collecting
/// the products 2l+1 then 2l of every 32-value step, as <c>vdpbf16ps</c>), reduced as
/// <c>_mm512_reduce_add_ps</c> (lanes m + m+8, then <see cref="Simd.Sum8"/>); a remainder the steps do not
/// cover is added in order afterwards. AVX2 machines run the sixteen lanes as two 8-lane halves.
/// </summary>
internal static unsafe class FloatTiles
{
    /// <summary>Computes the output block [t0, t1) × [o0, o1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TF>(in MatMulArgs args, int o0, int o1, int t0, int t1) where TF : struct, IFloatRow
    {
        var act = args.Act;
        int k = act.K;
        if (t1 - t0 == 1)
        {
            // Decoding: the rows one after another are one sequential stream, prefetched a fixed distance ahead
            // of each step (see StepPrefetch; measured on F16, 1B, 2 threads: 8.5 → 12.4 t/s).
            byte* end = args.WeightsEnd;
            StepPrefetch.StartRows(args, o0);
            float* x = act.Floats + (long)t0 * k;
            float* y = args.Y + (long)t0 * args.YStride;
            int valueBytes = (int)(args.RowBytes / k);
            for (int o = o0; o < o1; o++) y[o] = Row<TF>(args.Weights + (long)o * args.RowBytes, x, k, valueBytes, end);
            return;
        }
        for (int o = o0; o < o1; o += 4)
        {
            MatMulKernel.Rows4(args, o, o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3);
            MatMulKernel.PrefetchAhead(args, o);
            int t = t0;
            if (Simd.UseAvx512)
                for (; t + 4 <= t1; t += 4) Tile4x4<TF>(args, w0, w1, w2, w3, act, t, o, o1);
            for (; t < t1; t++)
            {
                float* x = act.Floats + (long)t * k;
                MatMulKernel.Store(args, t, o, o1, Row<TF>(w0, x, k, 0, null), Row<TF>(w1, x, k, 0, null), Row<TF>(w2, x, k, 0, null), Row<TF>(w3, x, k, 0, null));
            }
        }
    }

    /// <summary>Values covered by whole steps (16, or 32 when paired).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Covered<TF>(int k) where TF : struct, IFloatRow => TF.Paired ? k & ~31 : k & ~15;

    /// <summary>
    /// One output with 256-bit vectors (the sixteen lanes as two halves), prefetching
    /// <see cref="StepPrefetch.Distance"/> bytes ahead of each step while that is below <paramref name="prefetchEnd"/>
    /// (null: no prefetching; <paramref name="valueBytes"/> = bytes per weight).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row<TF>(byte* w, float* x, int k, int valueBytes, byte* prefetchEnd) where TF : struct, IFloatRow
    {
        Vector256<float> lo = default, hi = default;
        int covered = Covered<TF>(k), i = 0;
        if (TF.Paired)
        {
            for (; i < covered; i += 32)
            {
                StepPrefetch.Ahead(w + valueBytes * i, prefetchEnd);
                Vector256<uint> wl = Avx.LoadVector256((uint*)(w + 2 * i)), wh = Avx.LoadVector256((uint*)(w + 2 * i + 32));
                lo = Fma.MultiplyAdd(Odd(wl), Avx.LoadVector256(x + i + 16), lo);
                lo = Fma.MultiplyAdd(Even(wl), Avx.LoadVector256(x + i), lo);
                hi = Fma.MultiplyAdd(Odd(wh), Avx.LoadVector256(x + i + 24), hi);
                hi = Fma.MultiplyAdd(Even(wh), Avx.LoadVector256(x + i + 8), hi);
            }
        }
        else
        {
            for (; i < covered; i += 16)
            {
                StepPrefetch.Ahead(w + valueBytes * i, prefetchEnd);
                lo = Fma.MultiplyAdd(TF.Load8(w, i), Avx.LoadVector256(x + i), lo);
                hi = Fma.MultiplyAdd(TF.Load8(w, i + 8), Avx.LoadVector256(x + i + 8), hi);
            }
            if (i + 8 <= k)
            {
                lo = Fma.MultiplyAdd(TF.Load8(w, i), Avx.LoadVector256(x + i), lo);
                i += 8;
            }
        }
        float r = Simd.Sum8(Avx.Add(lo, hi));
        for (; i < k; i++) r += TF.Load1(w, i) * x[i];
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<uint> pairs) => Avx2.And(pairs, Vector256.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<uint> pairs) => Avx2.ShiftLeftLogical(pairs, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<uint> pairs) => Avx512F.And(pairs, Vector512.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<uint> pairs) => Avx512F.ShiftLeftLogical(pairs, 16).AsSingle();

    /// <summary>4 rows × 4 tokens with 512-bit accumulators (one per output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TF>(in MatMulArgs args, byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, int o, int o1)
        where TF : struct, IFloatRow
    {
        int k = act.K, covered = Covered<TF>(k);
        float* x0 = act.Floats + (long)t * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        if (TF.Paired)
        {
            for (int i = 0; i < covered; i += 32)
            {
                Vector512<uint> p0 = Avx512F.LoadVector512((uint*)(w0 + 2 * i)), p1 = Avx512F.LoadVector512((uint*)(w1 + 2 * i));
                Vector512<uint> p2 = Avx512F.LoadVector512((uint*)(w2 + 2 * i)), p3 = Avx512F.LoadVector512((uint*)(w3 + 2 * i));
                Vector512<float> o0 = Odd(p0), o1v = Odd(p1), o2 = Odd(p2), o3 = Odd(p3);
                Vector512<float> e0 = Even(p0), e1 = Even(p1), e2 = Even(p2), e3 = Even(p3);
                Pair(ref a00, ref a10, ref a20, ref a30, o0, o1v, o2, o3, e0, e1, e2, e3, x0 + i);
                Pair(ref a01, ref a11, ref a21, ref a31, o0, o1v, o2, o3, e0, e1, e2, e3, x1 + i);
                Pair(ref a02, ref a12, ref a22, ref a32, o0, o1v, o2, o3, e0, e1, e2, e3, x2 + i);
                Pair(ref a03, ref a13, ref a23, ref a33, o0, o1v, o2, o3, e0, e1, e2, e3, x3 + i);
            }
        }
        else
        {
            for (int i = 0; i < covered; i += 16)
            {
                Vector512<float> v0 = TF.Load16(w0, i), v1 = TF.Load16(w1, i), v2 = TF.Load16(w2, i), v3 = TF.Load16(w3, i);
                Vector512<float> x = Avx512F.LoadVector512(x0 + i);
                a00 = Avx512F.FusedMultiplyAdd(v0, x, a00); a10 = Avx512F.FusedMultiplyAdd(v1, x, a10);
                a20 = Avx512F.FusedMultiplyAdd(v2, x, a20); a30 = Avx512F.FusedMultiplyAdd(v3, x, a30);
                x = Avx512F.LoadVector512(x1 + i);
                a01 = Avx512F.FusedMultiplyAdd(v0, x, a01); a11 = Avx512F.FusedMultiplyAdd(v1, x, a11);
                a21 = Avx512F.FusedMultiplyAdd(v2, x, a21); a31 = Avx512F.FusedMultiplyAdd(v3, x, a31);
                x = Avx512F.LoadVector512(x2 + i);
                a02 = Avx512F.FusedMultiplyAdd(v0, x, a02); a12 = Avx512F.FusedMultiplyAdd(v1, x, a12);
                a22 = Avx512F.FusedMultiplyAdd(v2, x, a22); a32 = Avx512F.FusedMultiplyAdd(v3, x, a32);
                x = Avx512F.LoadVector512(x3 + i);
                a03 = Avx512F.FusedMultiplyAdd(v0, x, a03); a13 = Avx512F.FusedMultiplyAdd(v1, x, a13);
                a23 = Avx512F.FusedMultiplyAdd(v2, x, a23); a33 = Avx512F.FusedMultiplyAdd(v3, x, a33);
            }
        }
        MatMulKernel.Store(args, t, o, o1, Finish<TF>(a00, w0, x0, k), Finish<TF>(a10, w1, x0, k), Finish<TF>(a20, w2, x0, k), Finish<TF>(a30, w3, x0, k));
        MatMulKernel.Store(args, t + 1, o, o1, Finish<TF>(a01, w0, x1, k), Finish<TF>(a11, w1, x1, k), Finish<TF>(a21, w2, x1, k), Finish<TF>(a31, w3, x1, k));
        MatMulKernel.Store(args, t + 2, o, o1, Finish<TF>(a02, w0, x2, k), Finish<TF>(a12, w1, x2, k), Finish<TF>(a22, w2, x2, k), Finish<TF>(a32, w3, x2, k));
        MatMulKernel.Store(args, t + 3, o, o1, Finish<TF>(a03, w0, x3, k), Finish<TF>(a13, w1, x3, k), Finish<TF>(a23, w2, x3, k), Finish<TF>(a33, w3, x3, k));
    }

    /// <summary>One paired (BF16) step of four rows against one token: odd products, then even ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair(ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        Vector512<float> o0, Vector512<float> o1, Vector512<float> o2, Vector512<float> o3,
        Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, float* x)
    {
        Vector512<float> even = Avx512F.LoadVector512(x), odd = Avx512F.LoadVector512(x + 16);
        a0 = Avx512F.FusedMultiplyAdd(e0, even, Avx512F.FusedMultiplyAdd(o0, odd, a0));
        a1 = Avx512F.FusedMultiplyAdd(e1, even, Avx512F.FusedMultiplyAdd(o1, odd, a1));
        a2 = Avx512F.FusedMultiplyAdd(e2, even, Avx512F.FusedMultiplyAdd(o2, odd, a2));
        a3 = Avx512F.FusedMultiplyAdd(e3, even, Avx512F.FusedMultiplyAdd(o3, odd, a3));
    }

    /// <summary>The sixteen lanes of a 4×4 output reduced as in <see cref="Row"/>, with the same tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TF>(Vector512<float> acc, byte* w, float* x, int k) where TF : struct, IFloatRow
    {
        Vector256<float> lo = acc.GetLower(), hi = acc.GetUpper();
        int i = Covered<TF>(k);
        if (!TF.Paired && i + 8 <= k)
        {
            lo = Fma.MultiplyAdd(TF.Load8(w, i), Avx.LoadVector256(x + i), lo);
            i += 8;
        }
        float r = Simd.Sum8(Avx.Add(lo, hi));
        for (; i < k; i++) r += TF.Load1(w, i) * x[i];
        return r;
    }
}
