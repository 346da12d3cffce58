using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Generic kernels for the 32-value block formats. Per block and (row, token) pair they follow ggml's AVX2
/// <c>ggml_vec_dot_*_q8_0/q8_1</c>: eight int32 lane sums (lane i = values 4i..4i+3), converted to f32 and
/// accumulated with one FMA by the combined scale d_w·d_a; the result is <see cref="Simd.Sum8"/> of the lanes
/// plus, for the offset formats, the scalar Σ m·s. A tile of 4 weight rows × 4 tokens reads each weight block
/// once for four tokens (prefill); decoding (and a batch's last tokens) runs one row × one token at a time.
/// Both run the same per-pair operations, so a token's results are identical in a batch and alone.
/// </summary>
internal static unsafe class LegacyTiles
{
    /// <summary>Computes the output block [t0, t1) × [o0, o1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TB>(in MatMulArgs args, int o0, int o1, int t0, int t1) where TB : struct, ILegacyBlock
    {
        int groups = args.K / 32;
        var act = args.Act;
        if (t1 - t0 == 1)
        {
            // Decoding: whole rows one after another make a single sequential stream (measured on Q8_0, 1B,
            // 2 threads: 13.4 instead of 10.8 t/s on a loaded machine, 39 instead of 27 t/s idle, against 4
            // interleaved rows + prefetchnta), with one prefetch per block StepPrefetch.Distance ahead of it
            // (measured: 31.8 → 35.6–36.9 t/s median over interleaved runs; prefetching each line once instead: 33.7).
            float* y = args.Y + (long)t0 * args.YStride;
            byte* end = args.WeightsEnd;
            StepPrefetch.StartRows(args, o0);
            for (int o = o0; o < o1; o++) y[o] = Row<TB>(args.Weights + (long)o * args.RowBytes, act, t0, groups, end);
            return;
        }
        for (int o = o0; o < o1; o += 4)
        {
            MatMulKernel.Rows4(args, o, o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3);
            MatMulKernel.PrefetchAhead(args, o);
            int t = t0;
            for (; t + 4 <= t1; t += 4)
            {
                Vector256<float> r0, r1, r2, r3;
                Tile4x4<TB>(w0, w1, w2, w3, act, t, groups, &r0, &r1, &r2, &r3);
                for (int j = 0; j < 4; j++)
                {
                    float* y = args.Y + (long)(t + j) * args.YStride + o;
                    y[0] = r0.GetElement(j);
                    if (o + 1 < o1) y[1] = r1.GetElement(j);
                    if (o + 2 < o1) y[2] = r2.GetElement(j);
                    if (o + 3 < o1) y[3] = r3.GetElement(j);
                }
            }
            for (; t < t1; t++)
            {
                float* y = args.Y + (long)t * args.YStride;
                for (int i = o; i < Math.Min(o + 4, o1); i++) y[i] = Row<TB>(args.Weights + (long)i * args.RowBytes, act, t, groups, null);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step<TB>(Vector256<float> acc, Vector256<int> corr, Vector256<byte> u, Vector256<sbyte> a, Vector256<float> d)
        where TB : struct, ILegacyBlock
    {
        Vector256<int> lanes = TB.Wide ? Simd.DotWide(corr, u, a) : Simd.Dot(corr, u, a);
        return Fma.MultiplyAdd(d, Avx.ConvertToVector256Single(lanes), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Corr<TB>(int* corr, int g) where TB : struct, ILegacyBlock =>
        TB.Bias != 0 ? Avx.LoadVector256(corr + 8 * g) : Vector256<int>.Zero;

    /// <summary>4 rows × 4 tokens; result r_i holds row i's values for tokens t..t+3 in lanes 0..3.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TB>(byte* w0, byte* w1, byte* w2, byte* w3, Activations.ActivationBuffer act, int t, int groups,
        Vector256<float>* r0, Vector256<float>* r1, Vector256<float>* r2, Vector256<float>* r3) where TB : struct, ILegacyBlock
    {
        int k = act.K;
        sbyte* c0 = act.Codes + (long)t * k, c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
        float* s0 = act.Scales + (long)t * groups, s1 = s0 + groups, s2 = s1 + groups, s3 = s2 + groups;
        int* q0 = TB.Bias != 0 ? act.Corr + (long)t * (k / 4) : null;
        int* q1 = q0 + k / 4, q2 = q1 + k / 4, q3 = q2 + k / 4;
        float* m0 = TB.HasMin ? act.Sums + (long)t * groups : null;
        float* m1 = m0 + groups, m2 = m1 + groups, m3 = m2 + groups;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector128<float> sm0 = default, sm1 = default, sm2 = default, sm3 = default;
        int bb = TB.BlockBytes;
        for (int g = 0; g < groups; g++)
        {
            byte* b0 = w0 + g * bb, b1 = w1 + g * bb, b2 = w2 + g * bb, b3 = w3 + g * bb;
            Vector256<byte> u0 = TB.Codes(b0), u1 = TB.Codes(b1), u2 = TB.Codes(b2), u3 = TB.Codes(b3);
            var d0 = Vector256.Create(TB.Scale(b0));
            var d1 = Vector256.Create(TB.Scale(b1));
            var d2 = Vector256.Create(TB.Scale(b2));
            var d3 = Vector256.Create(TB.Scale(b3));
            if (TB.HasMin)
            {
                var s = Vector128.Create(m0[g], m1[g], m2[g], m3[g]);
                sm0 = Sse.Add(sm0, Sse.Multiply(Vector128.Create(TB.Min(b0)), s));
                sm1 = Sse.Add(sm1, Sse.Multiply(Vector128.Create(TB.Min(b1)), s));
                sm2 = Sse.Add(sm2, Sse.Multiply(Vector128.Create(TB.Min(b2)), s));
                sm3 = Sse.Add(sm3, Sse.Multiply(Vector128.Create(TB.Min(b3)), s));
            }

            Vector256<sbyte> a = Avx.LoadVector256(c0 + 32 * g);
            Vector256<int> q = Corr<TB>(q0, g);
            var dt = Vector256.Create(s0[g]);
            a00 = Step<TB>(a00, q, u0, a, Avx.Multiply(d0, dt));
            a10 = Step<TB>(a10, q, u1, a, Avx.Multiply(d1, dt));
            a20 = Step<TB>(a20, q, u2, a, Avx.Multiply(d2, dt));
            a30 = Step<TB>(a30, q, u3, a, Avx.Multiply(d3, dt));

            a = Avx.LoadVector256(c1 + 32 * g);
            q = Corr<TB>(q1, g);
            dt = Vector256.Create(s1[g]);
            a01 = Step<TB>(a01, q, u0, a, Avx.Multiply(d0, dt));
            a11 = Step<TB>(a11, q, u1, a, Avx.Multiply(d1, dt));
            a21 = Step<TB>(a21, q, u2, a, Avx.Multiply(d2, dt));
            a31 = Step<TB>(a31, q, u3, a, Avx.Multiply(d3, dt));

            a = Avx.LoadVector256(c2 + 32 * g);
            q = Corr<TB>(q2, g);
            dt = Vector256.Create(s2[g]);
            a02 = Step<TB>(a02, q, u0, a, Avx.Multiply(d0, dt));
            a12 = Step<TB>(a12, q, u1, a, Avx.Multiply(d1, dt));
            a22 = Step<TB>(a22, q, u2, a, Avx.Multiply(d2, dt));
            a32 = Step<TB>(a32, q, u3, a, Avx.Multiply(d3, dt));

            a = Avx.LoadVector256(c3 + 32 * g);
            q = Corr<TB>(q3, g);
            dt = Vector256.Create(s3[g]);
            a03 = Step<TB>(a03, q, u0, a, Avx.Multiply(d0, dt));
            a13 = Step<TB>(a13, q, u1, a, Avx.Multiply(d1, dt));
            a23 = Step<TB>(a23, q, u2, a, Avx.Multiply(d2, dt));
            a33 = Step<TB>(a33, q, u3, a, Avx.Multiply(d3, dt));
        }
        *r0 = Finish<TB>(a00, a01, a02, a03, sm0);
        *r1 = Finish<TB>(a10, a11, a12, a13, sm1);
        *r2 = Finish<TB>(a20, a21, a22, a23, sm2);
        *r3 = Finish<TB>(a30, a31, a32, a33, sm3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TB>(Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, Vector256<float> t3, Vector128<float> sm)
        where TB : struct, ILegacyBlock
    {
        float y0 = Simd.Sum8(t0), y1 = Simd.Sum8(t1), y2 = Simd.Sum8(t2), y3 = Simd.Sum8(t3);
        if (TB.HasMin)
        {
            y0 += sm.GetElement(0);
            y1 += sm.GetElement(1);
            y2 += sm.GetElement(2);
            y3 += sm.GetElement(3);
        }
        return Vector256.Create(y0, y1, y2, y3, 0, 0, 0, 0);
    }

    /// <summary>
    /// One weight row × one token, prefetching <see cref="StepPrefetch.Distance"/> bytes ahead of each block
    /// while that is below <paramref name="prefetchEnd"/> (null: no prefetching).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row<TB>(byte* w, Activations.ActivationBuffer act, int t, int groups, byte* prefetchEnd) where TB : struct, ILegacyBlock
    {
        int k = act.K;
        sbyte* c = act.Codes + (long)t * k;
        float* s = act.Scales + (long)t * groups;
        int* qp = TB.Bias != 0 ? act.Corr + (long)t * (k / 4) : null;
        float* m = TB.HasMin ? act.Sums + (long)t * groups : null;
        Vector256<float> acc = default;
        float sm = 0;
        int bb = TB.BlockBytes;
        for (int g = 0; g < groups; g++)
        {
            byte* b = w + g * bb;
            StepPrefetch.Ahead(b, prefetchEnd);
            var d = Avx.Multiply(Vector256.Create(TB.Scale(b)), Vector256.Create(s[g]));
            acc = Step<TB>(acc, Corr<TB>(qp, g), TB.Codes(b), Avx.LoadVector256(c + 32 * g), d);
            if (TB.HasMin) sm += TB.Min(b) * m[g];
        }
        float r = Simd.Sum8(acc);
        if (TB.HasMin) r += sm;
        return r;
    }

    /// <summary>ggml's <c>bytes_from_nibbles_32</c>: low nibbles of 16 bytes, then high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* p)
    {
        Vector128<byte> lo = Sse2.LoadVector128(p);
        Vector128<byte> hi = Sse2.ShiftRightLogical(lo.AsUInt16(), 4).AsByte();
        return Avx2.And(Vector256.Create(lo, hi), Vector256.Create((byte)0x0F));
    }

    /// <summary>Bit j of the little-endian uint32 at <paramref name="p"/> moved to bit 4 of byte j (the fifth code bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBits(byte* p)
    {
        // ggml's bytes_from_bits_32: broadcast, spread byte k of the word to bytes 8k..8k+7, set every bit but
        // the one of interest, compare with all-ones.
        Vector256<byte> bytes = Avx2.Shuffle(Vector256.Create(*(uint*)p).AsByte(),
            Vector256.Create(0x0000000000000000UL, 0x0101010101010101UL, 0x0202020202020202UL, 0x0303030303030303UL).AsByte());
        bytes = Avx2.Or(bytes, Vector256.Create(0x7fbfdfeff7fbfdfeUL).AsByte());
        return Avx2.And(Avx2.CompareEqual(bytes, Vector256<byte>.AllBitsSet), Vector256.Create((byte)0x10));
    }
}
