using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Generic kernels for the K-quants against Q8_K activations. Per super-block and (row, token) pair they follow
/// ggml's AVX2 <c>ggml_vec_dot_q*_K_q8_K</c>: eight int32 lanes (lane i = values 4i..4i+3 of each 32-value
/// chunk) times the integer sub-block scale, summed over the eight chunks, then one FMA by d_a·d_w into an f32
/// accumulator; the minimum term enters as <see cref="KMins"/> describes. A 4 rows × 4 tokens tile decodes each
/// weight chunk once for four tokens (prefill); 4 rows × 1 token serves decoding, with the same per-pair
/// operations.
/// </summary>
internal static unsafe class KQuantTiles
{
    /// <summary>Computes the output block [t0, t1) × [o0, o1).</summary>
    [SkipLocalsInit]
    public static void Compute<TB>(in MatMulArgs args, int o0, int o1, int t0, int t1) where TB : struct, IKBlock
    {
        var act = args.Act;
        KRow* rows = stackalloc KRow[4];
        var state = stackalloc PairState[16];
        for (int o = o0; o < o1; o += 4)
        {
            MatMulKernel.Rows4(args, o, o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3);
            int t = t0;
            for (; t + 4 <= t1; t += 4)
            {
                Tile4x4<TB>(w0, w1, w2, w3, act, t, rows, state);
                for (int j = 0; j < 4; j++)
                    MatMulKernel.Store(args, t + j, o, o1, Result<TB>(state[j]), Result<TB>(state[4 + j]),
                        Result<TB>(state[8 + j]), Result<TB>(state[12 + j]));
            }
            for (; t < t1; t++)
            {
                Tile4x1<TB>(w0, w1, w2, w3, act, t, rows, state);
                MatMulKernel.Store(args, t, o, o1, Result<TB>(state[0]), Result<TB>(state[4]), Result<TB>(state[8]), Result<TB>(state[12]));
            }
        }
    }

    /// <summary>The f32 accumulators of one (row, token) pair.</summary>
    private struct PairState
    {
        public Vector256<float> Acc;
        public Vector128<float> AccM;
        public float SumM;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Result<TB>(in PairState s) where TB : struct, IKBlock => TB.Mins switch
    {
        KMins.Lanes4 => Simd.Sum8(s.Acc) + Simd.Sum4(s.AccM),
        KMins.Scalar => Simd.Sum8(s.Acc) + s.SumM,
        _ => Simd.Sum8(s.Acc),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LaneScales<TB>(KRow* row, int c) where TB : struct, IKBlock =>
        TB.SixteenScales
            ? Vector256.Create(Vector128.Create(row->Scales[2 * c]), Vector128.Create(row->Scales[2 * c + 1]))
            : Vector256.Create(row->Scales[c]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk<TB>(Vector256<int> isum, int* corr, Vector256<byte> u, Vector256<sbyte> a, Vector256<int> scales)
        where TB : struct, IKBlock
    {
        Vector256<int> q = TB.Bias != 0 ? Avx.LoadVector256(corr) : Vector256<int>.Zero;
        return Avx2.Add(isum, Avx2.MultiplyLow(Simd.Dot(q, u, a), scales));
    }

    /// <summary>The per-super-block float step of one pair (ggml's order: Q2_K's mins first, then d·Σ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail<TB>(PairState* s, Vector256<int> isum, KRow* row, ActivationBuffer act, int t, int sb) where TB : struct, IKBlock
    {
        int k = act.K;
        float da = act.Scales[(long)t * (k / 256) + sb];
        if (TB.Mins == KMins.Sixteen)
        {
            float dmin = -da * row->DMin;
            Vector256<int> prod = Avx2.MultiplyAddAdjacent(Avx.LoadVector256(row->Mins), Avx.LoadVector256(act.BlockSums + (long)t * (k / 16) + 16 * sb));
            s->Acc = Fma.MultiplyAdd(Vector256.Create(dmin), Avx.ConvertToVector256Single(prod), s->Acc);
        }
        else if (TB.Mins != KMins.None)
        {
            float dmin = -da * row->DMin;
            Vector128<int> prod = Sse2.MultiplyAddAdjacent(Sse2.LoadVector128(row->Mins), Sse2.LoadVector128(act.PairSums + (long)t * (k / 32) + 8 * sb));
            if (TB.Mins == KMins.Lanes4)
                s->AccM = Fma.MultiplyAdd(Vector128.Create(dmin), Sse2.ConvertToVector128Single(prod), s->AccM);
            else
                s->SumM += dmin * (float)(prod.GetElement(0) + prod.GetElement(1) + prod.GetElement(2) + prod.GetElement(3));
        }
        float d = da * row->D;
        s->Acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(isum), s->Acc);
    }

    private static void Tile4x4<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, PairState* state)
        where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256, bb = TB.BlockBytes;
        for (int i = 0; i < 16; i++) state[i] = default;
        sbyte* c0 = act.Codes + (long)t * k, c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
        int* q0 = TB.Bias != 0 ? act.Corr + (long)t * (k / 4) : null;
        int* q1 = q0 + k / 4, q2 = q1 + k / 4, q3 = q2 + k / 4;
        for (int sb = 0; sb < blocks; sb++)
        {
            byte* b0 = w0 + sb * bb, b1 = w1 + sb * bb, b2 = w2 + sb * bb, b3 = w3 + sb * bb;
            TB.Prepare(b0, rows);
            TB.Prepare(b1, rows + 1);
            TB.Prepare(b2, rows + 2);
            TB.Prepare(b3, rows + 3);
            Vector256<int> i00 = default, i01 = default, i02 = default, i03 = default;
            Vector256<int> i10 = default, i11 = default, i12 = default, i13 = default;
            Vector256<int> i20 = default, i21 = default, i22 = default, i23 = default;
            Vector256<int> i30 = default, i31 = default, i32 = default, i33 = default;
            for (int c = 0; c < 8; c++)
            {
                Vector256<byte> u0 = TB.Codes(b0, c), u1 = TB.Codes(b1, c), u2 = TB.Codes(b2, c), u3 = TB.Codes(b3, c);
                Vector256<int> v0 = LaneScales<TB>(rows, c), v1 = LaneScales<TB>(rows + 1, c);
                Vector256<int> v2 = LaneScales<TB>(rows + 2, c), v3 = LaneScales<TB>(rows + 3, c);
                int at = 256 * sb + 32 * c, qt = 64 * sb + 8 * c;

                Vector256<sbyte> a = Avx.LoadVector256(c0 + at);
                i00 = Chunk<TB>(i00, q0 + qt, u0, a, v0);
                i10 = Chunk<TB>(i10, q0 + qt, u1, a, v1);
                i20 = Chunk<TB>(i20, q0 + qt, u2, a, v2);
                i30 = Chunk<TB>(i30, q0 + qt, u3, a, v3);

                a = Avx.LoadVector256(c1 + at);
                i01 = Chunk<TB>(i01, q1 + qt, u0, a, v0);
                i11 = Chunk<TB>(i11, q1 + qt, u1, a, v1);
                i21 = Chunk<TB>(i21, q1 + qt, u2, a, v2);
                i31 = Chunk<TB>(i31, q1 + qt, u3, a, v3);

                a = Avx.LoadVector256(c2 + at);
                i02 = Chunk<TB>(i02, q2 + qt, u0, a, v0);
                i12 = Chunk<TB>(i12, q2 + qt, u1, a, v1);
                i22 = Chunk<TB>(i22, q2 + qt, u2, a, v2);
                i32 = Chunk<TB>(i32, q2 + qt, u3, a, v3);

                a = Avx.LoadVector256(c3 + at);
                i03 = Chunk<TB>(i03, q3 + qt, u0, a, v0);
                i13 = Chunk<TB>(i13, q3 + qt, u1, a, v1);
                i23 = Chunk<TB>(i23, q3 + qt, u2, a, v2);
                i33 = Chunk<TB>(i33, q3 + qt, u3, a, v3);
            }
            Tail<TB>(state + 0, i00, rows, act, t, sb);
            Tail<TB>(state + 1, i01, rows, act, t + 1, sb);
            Tail<TB>(state + 2, i02, rows, act, t + 2, sb);
            Tail<TB>(state + 3, i03, rows, act, t + 3, sb);
            Tail<TB>(state + 4, i10, rows + 1, act, t, sb);
            Tail<TB>(state + 5, i11, rows + 1, act, t + 1, sb);
            Tail<TB>(state + 6, i12, rows + 1, act, t + 2, sb);
            Tail<TB>(state + 7, i13, rows + 1, act, t + 3, sb);
            Tail<TB>(state + 8, i20, rows + 2, act, t, sb);
            Tail<TB>(state + 9, i21, rows + 2, act, t + 1, sb);
            Tail<TB>(state + 10, i22, rows + 2, act, t + 2, sb);
            Tail<TB>(state + 11, i23, rows + 2, act, t + 3, sb);
            Tail<TB>(state + 12, i30, rows + 3, act, t, sb);
            Tail<TB>(state + 13, i31, rows + 3, act, t + 1, sb);
            Tail<TB>(state + 14, i32, rows + 3, act, t + 2, sb);
            Tail<TB>(state + 15, i33, rows + 3, act, t + 3, sb);
        }
    }

    private static void Tile4x1<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, PairState* state)
        where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256, bb = TB.BlockBytes;
        state[0] = default;
        state[4] = default;
        state[8] = default;
        state[12] = default;
        sbyte* c0 = act.Codes + (long)t * k;
        int* q0 = TB.Bias != 0 ? act.Corr + (long)t * (k / 4) : null;
        for (int sb = 0; sb < blocks; sb++)
        {
            byte* b0 = w0 + sb * bb, b1 = w1 + sb * bb, b2 = w2 + sb * bb, b3 = w3 + sb * bb;
            TB.Prepare(b0, rows);
            TB.Prepare(b1, rows + 1);
            TB.Prepare(b2, rows + 2);
            TB.Prepare(b3, rows + 3);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int c = 0; c < 8; c++)
            {
                int at = 256 * sb + 32 * c, qt = 64 * sb + 8 * c;
                Vector256<sbyte> a = Avx.LoadVector256(c0 + at);
                i0 = Chunk<TB>(i0, q0 + qt, TB.Codes(b0, c), a, LaneScales<TB>(rows, c));
                i1 = Chunk<TB>(i1, q0 + qt, TB.Codes(b1, c), a, LaneScales<TB>(rows + 1, c));
                i2 = Chunk<TB>(i2, q0 + qt, TB.Codes(b2, c), a, LaneScales<TB>(rows + 2, c));
                i3 = Chunk<TB>(i3, q0 + qt, TB.Codes(b3, c), a, LaneScales<TB>(rows + 3, c));
            }
            Tail<TB>(state + 0, i0, rows, act, t, sb);
            Tail<TB>(state + 4, i1, rows + 1, act, t, sb);
            Tail<TB>(state + 8, i2, rows + 2, act, t, sb);
            Tail<TB>(state + 12, i3, rows + 3, act, t, sb);
        }
    }

    // The chunk loop is not unrolled, so the shift counts below are variables (a vpsrlw with an xmm count,
    // which costs the same as the immediate form).
#pragma warning disable CA1857
    /// <summary>The 2-bit field <paramref name="k"/> (bits 2k, 2k+1) of 32 bytes, as codes 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> TwoBits(byte* p, int k) =>
        Avx2.And(Avx2.ShiftRightLogical(Avx.LoadVector256((ushort*)p), (byte)(2 * k)).AsByte(), Vector256.Create((byte)3));

    /// <summary>Low (<paramref name="high"/> false) or high nibbles of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* p, bool high)
    {
        Vector256<byte> bits = Avx.LoadVector256(p);
        if (high) bits = Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte();
        return Avx2.And(bits, Vector256.Create((byte)0x0F));
    }

    /// <summary>Bit <paramref name="bit"/> of each of 32 bytes moved to bit <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Bit(byte* p, int bit, int to)
    {
        Vector256<ushort> v = Avx.LoadVector256((ushort*)p);
        v = Avx2.ShiftRightLogical(v, (byte)bit);
        return Avx2.ShiftLeftLogical(Avx2.And(v.AsByte(), Vector256.Create((byte)1)).AsUInt16(), (byte)to).AsByte();
    }
#pragma warning restore CA1857
}
