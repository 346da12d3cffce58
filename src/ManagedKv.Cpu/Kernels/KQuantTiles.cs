using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Generic kernels for the K-quants against Q8_K activations. The integer part follows ggml's AVX2
/// <c>ggml_vec_dot_q*_K_q8_K</c>: per 32-value chunk, <c>pmaddubsw</c> of the unsigned codes with the
/// activation codes (minus Bias times the activation pair sums), <c>pmaddwd</c> with the int16 sub-block
/// scales, summed over the super-block (with AVX-512BW two chunks go through one 512-bit
/// <c>vpmaddubsw</c>/<c>vpmaddwd</c>, a 128-value half decoded from one load of its code bytes). The float part
/// follows the kernel llama.cpp runs for the type (<see cref="IKBlock.Float"/>): the repacked GEMV/GEMM's one
/// f32 accumulator per output fed by integer totals (per super-block, or per 64 values in Q4_K's GEMM), or
/// vec_dot's eight lane accumulators; mins go to a second accumulator by dmin_w·d_a, subtracted at the end. A
/// 4 rows × 4 tokens tile decodes each weight chunk once for four tokens (prefill; llama.cpp's GEMM rows);
/// 4 rows × 1 token serves decoding and a batch's last tokens (its GEMV rows).
/// </summary>
internal static unsafe class KQuantTiles
{
    /// <summary>Computes the output block [t0, t1) × [o0, o1).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TB>(in MatMulArgs args, int o0, int o1, int t0, int t1) where TB : struct, IKBlock
    {
        var act = args.Act;
        KRow* rows = stackalloc KRow[4];
        Vector256<int>* ints = stackalloc Vector256<int>[16];   // [row, token] integer lanes of one float step
        var state = stackalloc FloatState[1];
        // Decoding streams weights with little work per byte: prefetches spread over its steps. Prefill reuses
        // each weight tile for many tokens and prefetches the next tile ahead of it.
        bool decoding = t1 - t0 == 1;
        var stepPrefetch = new StepPrefetch(args, TB.BlockBytes);
        StepPrefetch* prefetch = decoding ? &stepPrefetch : null;
        if (decoding) stepPrefetch.Start(args.Weights + o0 * args.RowBytes);
        for (int o = o0; o < o1; o += 4)
        {
            MatMulKernel.Rows4(args, o, o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3);
            if (!decoding) MatMulKernel.PrefetchAhead(args, o);
            int t = t0;
            for (; t + 4 <= t1; t += 4)
            {
                if (Simd.UseAvx512 && TB.Float == KFloat.Spans64)
                {
                    Vector512<float> tile = Tile4x4Spans<TB>(w0, w1, w2, w3, act, t, rows); // lanes [row, token]
                    for (int j = 0; j < 4; j++)
                        MatMulKernel.Store(args, t + j, o, o1, tile.GetElement(j), tile.GetElement(4 + j), tile.GetElement(8 + j), tile.GetElement(12 + j));
                    continue;
                }
                Clear<TB>(state, 4);
                if (Simd.UseAvx512) Tile4x4Wide<TB>(w0, w1, w2, w3, act, t, rows, ints, state);
                else Tile4x4<TB>(w0, w1, w2, w3, act, t, rows, ints, state);
                for (int r = 0; r < 4; r++) state->Acc[r] = Result4x4<TB>(state, r);
                Vector128<float>* y = state->Acc;
                for (int j = 0; j < 4; j++)
                    MatMulKernel.Store(args, t + j, o, o1, y[0].GetElement(j), y[1].GetElement(j), y[2].GetElement(j), y[3].GetElement(j));
            }
            for (; t < t1; t++)
            {
                Clear<TB>(state, 1);
                if (Simd.UseAvx512) Tile4x1Wide<TB>(w0, w1, w2, w3, act, t, rows, ints, state, prefetch);
                else Tile4x1<TB>(w0, w1, w2, w3, act, t, rows, ints, state, prefetch);
                Vector128<float> y = Result4x1<TB>(state);
                MatMulKernel.Store(args, t, o, o1, y.GetElement(0), y.GetElement(1), y.GetElement(2), y.GetElement(3));
            }
        }
    }

    // ---- the float step, shared by every tile shape ------------------------------------------------------

    /// <summary>A tile's f32 accumulators.</summary>
    private struct FloatState
    {
        /// <summary>Per row: lanes = the tile's tokens (4×4), or lane = row (4×1, element 0 only used).</summary>
        public fixed float AccBits[16];
        /// <summary>Same shape for the mins.</summary>
        public fixed float MinBits[16];
        /// <summary><see cref="KFloat.Lanes"/>: eight lanes per (row, token), [4, 4].</summary>
        public fixed float LaneBits[128];

        public Vector128<float>* Acc => (Vector128<float>*)Unsafe.AsPointer(ref AccBits[0]);
        public Vector128<float>* Min => (Vector128<float>*)Unsafe.AsPointer(ref MinBits[0]);
        public Vector256<float>* Lanes => (Vector256<float>*)Unsafe.AsPointer(ref LaneBits[0]);
    }

    /// <summary>Lane i = the sum of all eight lanes of v_i (exact integer sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Totals(Vector256<int> v0, Vector256<int> v1, Vector256<int> v2, Vector256<int> v3)
    {
        Vector256<int> h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(v0, v1), Avx2.HorizontalAdd(v2, v3));
        return Sse2.Add(h.GetLower(), h.GetUpper());
    }

    /// <summary>Lane i = the sum of the four lanes of p_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Totals(Vector128<int> p0, Vector128<int> p1, Vector128<int> p2, Vector128<int> p3) =>
        Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(p0, p1), Ssse3.HorizontalAdd(p2, p3));

    /// <summary>
    /// Σ_j m_j · (activation sums of sub-block j) of one row and one token, as int32 lanes to be totalled; for
    /// <see cref="KMins.Eight"/> lane u holds the 64 values 64u .. 64u+63.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> MinLanes<TB>(KRow* row, ActivationBuffer act, int t, int sb) where TB : struct, IKBlock
    {
        int k = act.K;
        if (TB.Mins == KMins.Sixteen)
        {
            Vector256<int> prod = Avx2.MultiplyAddAdjacent(row->Mins, Avx.LoadVector256(act.BlockSums + (long)t * (k / 16) + 16 * sb));
            return Sse2.Add(prod.GetLower(), prod.GetUpper());
        }
        return Sse2.MultiplyAddAdjacent(row->Scales.GetUpper(), Sse2.LoadVector128(act.PairSums + (long)t * (k / 32) + 8 * sb));
    }

    /// <summary>The mins' integer totals of four tokens for one row: the whole super-block, or 64-value span <paramref name="span"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> TokenMins<TB>(KRow* row, ActivationBuffer act, int t, int sb, int span) where TB : struct, IKBlock
    {
        if (span < 0)
            return Totals(MinLanes<TB>(row, act, t, sb), MinLanes<TB>(row, act, t + 1, sb),
                MinLanes<TB>(row, act, t + 2, sb), MinLanes<TB>(row, act, t + 3, sb));
        SpanMins<TB>(row, act, t, sb, out var s0, out var s1, out var s2, out var s3);
        return span switch { 0 => s0, 1 => s1, 2 => s2, _ => s3 };
    }

    /// <summary>
    /// The mins' integer totals of four tokens for one row, per 64-value span (<see cref="KMins.Eight"/>): sᵤ lane j
    /// = token t+j's span u. A 4×4 transpose of the tokens' span lanes, so no lane is picked by a variable index
    /// (that compiles to a spill and a reload).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SpanMins<TB>(KRow* row, ActivationBuffer act, int t, int sb,
        out Vector128<int> s0, out Vector128<int> s1, out Vector128<int> s2, out Vector128<int> s3) where TB : struct, IKBlock
    {
        Vector128<int> m0 = MinLanes<TB>(row, act, t, sb), m1 = MinLanes<TB>(row, act, t + 1, sb);
        Vector128<int> m2 = MinLanes<TB>(row, act, t + 2, sb), m3 = MinLanes<TB>(row, act, t + 3, sb);
        Vector128<int> lo01 = Sse2.UnpackLow(m0, m1), lo23 = Sse2.UnpackLow(m2, m3);   // spans 0, 1
        Vector128<int> hi01 = Sse2.UnpackHigh(m0, m1), hi23 = Sse2.UnpackHigh(m2, m3); // spans 2, 3
        s0 = Sse2.UnpackLow(lo01.AsInt64(), lo23.AsInt64()).AsInt32();
        s1 = Sse2.UnpackHigh(lo01.AsInt64(), lo23.AsInt64()).AsInt32();
        s2 = Sse2.UnpackLow(hi01.AsInt64(), hi23.AsInt64()).AsInt32();
        s3 = Sse2.UnpackHigh(hi01.AsInt64(), hi23.AsInt64()).AsInt32();
    }

    /// <summary>
    /// The integer lanes of one row and token with ggml's per-sub-block bias correction applied when the type
    /// uses it: lane i − Bias·(scale·bsum of 16-value sub-blocks 2i and 2i+1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LaneInts<TB>(Vector256<int> v, KRow* row, ActivationBuffer act, int t, int sb) where TB : struct, IKBlock
    {
        if (!TB.SubBlockBias) return v;
        Vector256<short> bsums = Avx.LoadVector256(act.BlockSums + (long)t * (act.K / 16) + 16 * sb);
        return Avx2.Subtract(v, Avx2.MultiplyLow(Avx2.MultiplyAddAdjacent(row->Scales, bsums), Vector256.Create(TB.Bias)));
    }

    /// <summary>d_a of four consecutive tokens at super-block sb.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> TokenScales(ActivationBuffer act, int t, int sb)
    {
        int blocks = act.K / 256;
        float* d = act.Scales + (long)t * blocks + sb;
        return Vector128.Create(d[0], d[blocks], d[2 * blocks], d[3 * blocks]);
    }

    /// <summary>
    /// One float step of a 4×4 tile from <paramref name="ints"/> ([row, token]): the whole super-block
    /// (<paramref name="span"/> &lt; 0) or one 64-value span of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step4x4<TB>(Vector256<int>* ints, KRow* rows, ActivationBuffer act, int t, int sb, int span, FloatState* st)
        where TB : struct, IKBlock
    {
        Vector128<float> da = TokenScales(act, t, sb);
        for (int r = 0; r < 4; r++)
        {
            KRow* row = rows + r;
            if (TB.Float == KFloat.Lanes)
            {
                for (int j = 0; j < 4; j++)
                {
                    Vector256<float> lanes = Avx.ConvertToVector256Single(LaneInts<TB>(ints[4 * r + j], row, act, t + j, sb));
                    st->Lanes[4 * r + j] = Fma.MultiplyAdd(lanes, Vector256.Create(row->D * da.GetElement(j)), st->Lanes[4 * r + j]);
                }
            }
            else
            {
                Vector128<int> total = Totals(ints[4 * r], ints[4 * r + 1], ints[4 * r + 2], ints[4 * r + 3]);
                st->Acc[r] = Fma.MultiplyAdd(Sse2.ConvertToVector128Single(total), Sse.Multiply(Vector128.Create(row->D), da), st->Acc[r]);
            }
            if (TB.Mins != KMins.None)
                st->Min[r] = Fma.MultiplyAdd(Sse2.ConvertToVector128Single(TokenMins<TB>(row, act, t, sb, span)),
                    Sse.Multiply(Vector128.Create(row->DMin), da), st->Min[r]);
        }
    }

    /// <summary>One float step of a 4×1 tile (one token, four rows) over a whole super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step4x1<TB>(Vector256<int>* ints, KRow* rows, ActivationBuffer act, int t, int sb, FloatState* st)
        where TB : struct, IKBlock
    {
        float da = act.Scales[(long)t * (act.K / 256) + sb];
        if (TB.Float == KFloat.Lanes)
        {
            for (int r = 0; r < 4; r++)
            {
                Vector256<float> lanes = Avx.ConvertToVector256Single(LaneInts<TB>(ints[r], rows + r, act, t, sb));
                st->Lanes[r] = Fma.MultiplyAdd(lanes, Vector256.Create(rows[r].D * da), st->Lanes[r]);
            }
        }
        else
        {
            var dw = Vector128.Create(rows[0].D, rows[1].D, rows[2].D, rows[3].D);
            st->Acc[0] = Fma.MultiplyAdd(Sse2.ConvertToVector128Single(Totals(ints[0], ints[1], ints[2], ints[3])),
                Sse.Multiply(dw, Vector128.Create(da)), st->Acc[0]);
        }
        if (TB.Mins != KMins.None)
        {
            Vector128<int> minTotal = Totals(MinLanes<TB>(rows, act, t, sb), MinLanes<TB>(rows + 1, act, t, sb),
                MinLanes<TB>(rows + 2, act, t, sb), MinLanes<TB>(rows + 3, act, t, sb));
            var dminW = Vector128.Create(rows[0].DMin, rows[1].DMin, rows[2].DMin, rows[3].DMin);
            st->Min[0] = Fma.MultiplyAdd(Sse2.ConvertToVector128Single(minTotal), Sse.Multiply(dminW, Vector128.Create(da)), st->Min[0]);
        }
    }

    /// <summary>Row r's four tokens: the accumulated sums (hsum_float_8 of each token's lanes) minus the mins.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Result4x4<TB>(FloatState* st, int r) where TB : struct, IKBlock
    {
        Vector128<float> sum = TB.Float == KFloat.Lanes
            ? Vector128.Create(Simd.Sum8(st->Lanes[4 * r]), Simd.Sum8(st->Lanes[4 * r + 1]), Simd.Sum8(st->Lanes[4 * r + 2]), Simd.Sum8(st->Lanes[4 * r + 3]))
            : st->Acc[r];
        return TB.Mins != KMins.None ? Sse.Subtract(sum, st->Min[r]) : sum;
    }

    /// <summary>The four rows of a 4×1 tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Result4x1<TB>(FloatState* st) where TB : struct, IKBlock
    {
        Vector128<float> sum = TB.Float == KFloat.Lanes
            ? Vector128.Create(Simd.Sum8(st->Lanes[0]), Simd.Sum8(st->Lanes[1]), Simd.Sum8(st->Lanes[2]), Simd.Sum8(st->Lanes[3]))
            : st->Acc[0];
        return TB.Mins != KMins.None ? Sse.Subtract(sum, st->Min[0]) : sum;
    }

    /// <summary>Zeroes the accumulators a tile of <paramref name="tokens"/> tokens uses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear<TB>(FloatState* st, int tokens) where TB : struct, IKBlock
    {
        int used = tokens == 4 ? 4 : 1;
        for (int i = 0; i < used; i++) st->Min[i] = default;
        if (TB.Float == KFloat.Lanes)
            for (int i = 0; i < 4 * tokens; i++) st->Lanes[i] = default;
        else
            for (int i = 0; i < used; i++) st->Acc[i] = default;
    }

    /// <summary>Whether the activation pair sums carry the bias (every biased type except those corrected per sub-block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PairBias<TB>() where TB : struct, IKBlock => TB.Bias != 0 && !TB.SubBlockBias;

    /// <summary>Chunks per float step of a 4×4 tile: two for Q4_K's GEMM spans, else the whole super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StepChunks<TB>() where TB : struct, IKBlock => TB.Float == KFloat.Spans64 ? 2 : 8;

    // ---- AVX2: one 32-value chunk at a time -------------------------------------------------------------

    /// <summary>The int16 scales of chunk c's sixteen code pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> ChunkScales<TB>(KRow* row, int c) where TB : struct, IKBlock
    {
        short* s = (short*)&row->Scales;
        return TB.SixteenScales ? Vector256.Create(Vector128.Create(s[2 * c]), Vector128.Create(s[2 * c + 1])) : Vector256.Create(s[c]);
    }

    /// <summary>isum + Σ scale·((u − Bias)·a) over one chunk, in pmaddubsw/pmaddwd lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk<TB>(Vector256<int> isum, Vector256<byte> u, Vector256<sbyte> a, short* biasPairs, Vector256<short> scales)
        where TB : struct, IKBlock
    {
        Vector256<short> p = Avx2.MultiplyAddAdjacent(u, a);
        if (PairBias<TB>()) p = Avx2.Subtract(p, Avx.LoadVector256(biasPairs));
        return Avx2.Add(isum, Avx2.MultiplyAddAdjacent(p, scales));
    }

    /// <summary>
    /// Points <paramref name="b0"/> .. <paramref name="b3"/> at super-block <paramref name="sb"/> of the four rows
    /// and decodes their factors, scales and mins into <paramref name="rows"/>[0..3].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrepareBlocks<TB>(byte* w0, byte* w1, byte* w2, byte* w3, int sb, KRow* rows,
        out byte* b0, out byte* b1, out byte* b2, out byte* b3) where TB : struct, IKBlock
    {
        int bb = TB.BlockBytes;
        b0 = w0 + sb * bb; b1 = w1 + sb * bb; b2 = w2 + sb * bb; b3 = w3 + sb * bb;
        TB.Prepare(b0, rows);
        TB.Prepare(b1, rows + 1);
        TB.Prepare(b2, rows + 2);
        TB.Prepare(b3, rows + 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, Vector256<int>* ints, FloatState* st)
        where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256, stepChunks = StepChunks<TB>();
        sbyte* c0 = act.Codes + (long)t * k, c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
        short* p0 = PairBias<TB>() ? act.BiasPairs + (long)t * (k / 2) : null;
        short* p1 = p0 + k / 2, p2 = p1 + k / 2, p3 = p2 + k / 2;
        for (int sb = 0; sb < blocks; sb++)
        {
            PrepareBlocks<TB>(w0, w1, w2, w3, sb, rows, out byte* b0, out byte* b1, out byte* b2, out byte* b3);
            for (int first = 0; first < 8; first += stepChunks)
            {
                Vector256<int> i00 = default, i01 = default, i02 = default, i03 = default;
                Vector256<int> i10 = default, i11 = default, i12 = default, i13 = default;
                Vector256<int> i20 = default, i21 = default, i22 = default, i23 = default;
                Vector256<int> i30 = default, i31 = default, i32 = default, i33 = default;
                for (int c = first; c < first + stepChunks; c++)
                {
                    Vector256<byte> u0 = TB.Codes(b0, c), u1 = TB.Codes(b1, c), u2 = TB.Codes(b2, c), u3 = TB.Codes(b3, c);
                    Vector256<short> v0 = ChunkScales<TB>(rows, c), v1 = ChunkScales<TB>(rows + 1, c);
                    Vector256<short> v2 = ChunkScales<TB>(rows + 2, c), v3 = ChunkScales<TB>(rows + 3, c);
                    int at = 256 * sb + 32 * c, pt = 128 * sb + 16 * c;

                    Vector256<sbyte> a = Avx.LoadVector256(c0 + at);
                    i00 = Chunk<TB>(i00, u0, a, p0 + pt, v0);
                    i10 = Chunk<TB>(i10, u1, a, p0 + pt, v1);
                    i20 = Chunk<TB>(i20, u2, a, p0 + pt, v2);
                    i30 = Chunk<TB>(i30, u3, a, p0 + pt, v3);

                    a = Avx.LoadVector256(c1 + at);
                    i01 = Chunk<TB>(i01, u0, a, p1 + pt, v0);
                    i11 = Chunk<TB>(i11, u1, a, p1 + pt, v1);
                    i21 = Chunk<TB>(i21, u2, a, p1 + pt, v2);
                    i31 = Chunk<TB>(i31, u3, a, p1 + pt, v3);

                    a = Avx.LoadVector256(c2 + at);
                    i02 = Chunk<TB>(i02, u0, a, p2 + pt, v0);
                    i12 = Chunk<TB>(i12, u1, a, p2 + pt, v1);
                    i22 = Chunk<TB>(i22, u2, a, p2 + pt, v2);
                    i32 = Chunk<TB>(i32, u3, a, p2 + pt, v3);

                    a = Avx.LoadVector256(c3 + at);
                    i03 = Chunk<TB>(i03, u0, a, p3 + pt, v0);
                    i13 = Chunk<TB>(i13, u1, a, p3 + pt, v1);
                    i23 = Chunk<TB>(i23, u2, a, p3 + pt, v2);
                    i33 = Chunk<TB>(i33, u3, a, p3 + pt, v3);
                }
                ints[0] = i00; ints[1] = i01; ints[2] = i02; ints[3] = i03;
                ints[4] = i10; ints[5] = i11; ints[6] = i12; ints[7] = i13;
                ints[8] = i20; ints[9] = i21; ints[10] = i22; ints[11] = i23;
                ints[12] = i30; ints[13] = i31; ints[14] = i32; ints[15] = i33;
                Step4x4<TB>(ints, rows, act, t, sb, stepChunks == 8 ? -1 : first / stepChunks, st);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, Vector256<int>* ints, FloatState* st,
        StepPrefetch* prefetch) where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256;
        sbyte* c0 = act.Codes + (long)t * k;
        short* p0 = PairBias<TB>() ? act.BiasPairs + (long)t * (k / 2) : null;
        for (int sb = 0; sb < blocks; sb++)
        {
            if (prefetch != null) prefetch->Issue(w0, sb);
            PrepareBlocks<TB>(w0, w1, w2, w3, sb, rows, out byte* b0, out byte* b1, out byte* b2, out byte* b3);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int c = 0; c < 8; c++)
            {
                int at = 256 * sb + 32 * c, pt = 128 * sb + 16 * c;
                Vector256<sbyte> a = Avx.LoadVector256(c0 + at);
                i0 = Chunk<TB>(i0, TB.Codes(b0, c), a, p0 + pt, ChunkScales<TB>(rows, c));
                i1 = Chunk<TB>(i1, TB.Codes(b1, c), a, p0 + pt, ChunkScales<TB>(rows + 1, c));
                i2 = Chunk<TB>(i2, TB.Codes(b2, c), a, p0 + pt, ChunkScales<TB>(rows + 2, c));
                i3 = Chunk<TB>(i3, TB.Codes(b3, c), a, p0 + pt, ChunkScales<TB>(rows + 3, c));
            }
            ints[0] = i0; ints[1] = i1; ints[2] = i2; ints[3] = i3;
            Step4x1<TB>(ints, rows, act, t, sb, st);
        }
    }

    // ---- AVX-512BW: two chunks (64 values) per instruction, a 128-value half at a time -------------------

    /// <summary>
    /// vpermw indices selecting, for each int16 lane of the half's first (<paramref name="second"/> false) or
    /// second code vector, its sub-block's scale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> HalfIndex<TB>(int half, bool second) where TB : struct, IKBlock
    {
        if (TB.SixteenScales) // chunks (4h, 4h+1) or (4h+2, 4h+3): sub-blocks 8h .. 8h+3 or 8h+4 .. 8h+7
            return Avx512BW.Add(Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, (short)3),
                Vector512.Create((short)(8 * half + (second ? 4 : 0))));
        // chunks (4h, 4h+2) or (4h+1, 4h+3) when interleaved, else (4h, 4h+1) or (4h+2, 4h+3): one scale per chunk
        int first = 4 * half + (second ? (TB.Interleaved ? 1 : 2) : 0), step = TB.Interleaved ? 2 : 1;
        return Avx512BW.Add(Avx512BW.MultiplyLow(Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, (short)1),
            Vector512.Create((short)step)), Vector512.Create((short)first));
    }

    /// <summary>A token's activation codes of half h, arranged like <see cref="IKBlock.Codes128"/>'s two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void HalfActivations<TB>(sbyte* x, out Vector512<sbyte> a, out Vector512<sbyte> b) where TB : struct, IKBlock
    {
        if (TB.Interleaved)
        {
            a = Avx512F.InsertVector256(Avx.LoadVector256(x).ToVector512Unsafe(), Avx.LoadVector256(x + 64), 1);
            b = Avx512F.InsertVector256(Avx.LoadVector256(x + 32).ToVector512Unsafe(), Avx.LoadVector256(x + 96), 1);
        }
        else
        {
            a = Avx512BW.LoadVector512(x);
            b = Avx512BW.LoadVector512(x + 64);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Pair<TB>(Vector512<int> isum, Vector512<byte> u, Vector512<sbyte> a, short* biasPairs, Vector512<short> scales)
        where TB : struct, IKBlock
    {
        Vector512<short> p = Avx512BW.MultiplyAddAdjacent(u, a);
        if (PairBias<TB>()) p = Avx512BW.Subtract(p, Avx512BW.LoadVector512(biasPairs)); // natural order only
        return Avx512F.Add(isum, Avx512BW.MultiplyAddAdjacent(p, scales));
    }

    /// <summary>The 256-bit integer lanes of a 512-bit accumulator: both halves added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Halves(Vector512<int> v) => Avx2.Add(v.GetLower(), v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4Wide<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, Vector256<int>* ints, FloatState* st)
        where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256;
        // Q4_K's 64-value float steps take Tile4x4Spans: this tile takes one float step per super-block
        sbyte* c0 = act.Codes + (long)t * k, c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
        short* p0 = PairBias<TB>() ? act.BiasPairs + (long)t * (k / 2) : null;
        short* p1 = p0 + k / 2, p2 = p1 + k / 2, p3 = p2 + k / 2;
        for (int sb = 0; sb < blocks; sb++)
        {
            PrepareBlocks<TB>(w0, w1, w2, w3, sb, rows, out byte* b0, out byte* b1, out byte* b2, out byte* b3);
            Vector512<short> s0 = rows[0].Scales.ToVector512Unsafe(), s1 = rows[1].Scales.ToVector512Unsafe();
            Vector512<short> s2 = rows[2].Scales.ToVector512Unsafe(), s3 = rows[3].Scales.ToVector512Unsafe();
            Vector512<int> i00 = default, i01 = default, i02 = default, i03 = default;
            Vector512<int> i10 = default, i11 = default, i12 = default, i13 = default;
            Vector512<int> i20 = default, i21 = default, i22 = default, i23 = default;
            Vector512<int> i30 = default, i31 = default, i32 = default, i33 = default;
            for (int h = 0; h < 2; h++)
            {
                TB.Codes128(b0, h, out Vector512<byte> u0a, out Vector512<byte> u0b);
                TB.Codes128(b1, h, out Vector512<byte> u1a, out Vector512<byte> u1b);
                TB.Codes128(b2, h, out Vector512<byte> u2a, out Vector512<byte> u2b);
                TB.Codes128(b3, h, out Vector512<byte> u3a, out Vector512<byte> u3b);
                int at = 256 * sb + 128 * h, pt = 128 * sb + 64 * h;
                for (int part = 0; part < 2; part++)
                {
                    bool second = part == 1;
                    Vector512<short> index = HalfIndex<TB>(h, second);
                    Vector512<short> v0 = Avx512BW.PermuteVar32x16(s0, index), v1 = Avx512BW.PermuteVar32x16(s1, index);
                    Vector512<short> v2 = Avx512BW.PermuteVar32x16(s2, index), v3 = Avx512BW.PermuteVar32x16(s3, index);
                    Vector512<byte> x0 = second ? u0b : u0a, x1 = second ? u1b : u1a, x2 = second ? u2b : u2a, x3 = second ? u3b : u3a;
                    int bp = pt + 32 * part;

                    HalfActivations<TB>(c0 + at, out Vector512<sbyte> aa, out Vector512<sbyte> ab);
                    Vector512<sbyte> a = second ? ab : aa;
                    i00 = Pair<TB>(i00, x0, a, p0 + bp, v0);
                    i10 = Pair<TB>(i10, x1, a, p0 + bp, v1);
                    i20 = Pair<TB>(i20, x2, a, p0 + bp, v2);
                    i30 = Pair<TB>(i30, x3, a, p0 + bp, v3);

                    HalfActivations<TB>(c1 + at, out aa, out ab);
                    a = second ? ab : aa;
                    i01 = Pair<TB>(i01, x0, a, p1 + bp, v0);
                    i11 = Pair<TB>(i11, x1, a, p1 + bp, v1);
                    i21 = Pair<TB>(i21, x2, a, p1 + bp, v2);
                    i31 = Pair<TB>(i31, x3, a, p1 + bp, v3);

                    HalfActivations<TB>(c2 + at, out aa, out ab);
                    a = second ? ab : aa;
                    i02 = Pair<TB>(i02, x0, a, p2 + bp, v0);
                    i12 = Pair<TB>(i12, x1, a, p2 + bp, v1);
                    i22 = Pair<TB>(i22, x2, a, p2 + bp, v2);
                    i32 = Pair<TB>(i32, x3, a, p2 + bp, v3);

                    HalfActivations<TB>(c3 + at, out aa, out ab);
                    a = second ? ab : aa;
                    i03 = Pair<TB>(i03, x0, a, p3 + bp, v0);
                    i13 = Pair<TB>(i13, x1, a, p3 + bp, v1);
                    i23 = Pair<TB>(i23, x2, a, p3 + bp, v2);
                    i33 = Pair<TB>(i33, x3, a, p3 + bp, v3);
                }
            }
            Park(ints, i00, i01, i02, i03, i10, i11, i12, i13, i20, i21, i22, i23, i30, i31, i32, i33);
            Step4x4<TB>(ints, rows, act, t, sb, -1, st);
        }
    }

    /// <summary>Stores a 4×4 tile's accumulators as [row, token] 256-bit lanes (see <see cref="Halves"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Park(Vector256<int>* ints,
        Vector512<int> i00, Vector512<int> i01, Vector512<int> i02, Vector512<int> i03,
        Vector512<int> i10, Vector512<int> i11, Vector512<int> i12, Vector512<int> i13,
        Vector512<int> i20, Vector512<int> i21, Vector512<int> i22, Vector512<int> i23,
        Vector512<int> i30, Vector512<int> i31, Vector512<int> i32, Vector512<int> i33)
    {
        ints[0] = Halves(i00); ints[1] = Halves(i01); ints[2] = Halves(i02); ints[3] = Halves(i03);
        ints[4] = Halves(i10); ints[5] = Halves(i11); ints[6] = Halves(i12); ints[7] = Halves(i13);
        ints[8] = Halves(i20); ints[9] = Halves(i21); ints[10] = Halves(i22); ints[11] = Halves(i23);
        ints[12] = Halves(i30); ints[13] = Halves(i31); ints[14] = Halves(i32); ints[15] = Halves(i33);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1Wide<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows, Vector256<int>* ints, FloatState* st,
        StepPrefetch* prefetch) where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256;
        sbyte* c0 = act.Codes + (long)t * k;
        short* p0 = PairBias<TB>() ? act.BiasPairs + (long)t * (k / 2) : null;
        for (int sb = 0; sb < blocks; sb++)
        {
            if (prefetch != null) prefetch->Issue(w0, sb);
            PrepareBlocks<TB>(w0, w1, w2, w3, sb, rows, out byte* b0, out byte* b1, out byte* b2, out byte* b3);
            Vector512<short> s0 = rows[0].Scales.ToVector512Unsafe(), s1 = rows[1].Scales.ToVector512Unsafe();
            Vector512<short> s2 = rows[2].Scales.ToVector512Unsafe(), s3 = rows[3].Scales.ToVector512Unsafe();
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int h = 0; h < 2; h++)
            {
                int at = 256 * sb + 128 * h, pt = 128 * sb + 64 * h;
                HalfActivations<TB>(c0 + at, out Vector512<sbyte> xa, out Vector512<sbyte> xb);
                Vector512<short> ia = HalfIndex<TB>(h, false), ib = HalfIndex<TB>(h, true);
                TB.Codes128(b0, h, out Vector512<byte> ua, out Vector512<byte> ub);
                i0 = Pair<TB>(Pair<TB>(i0, ua, xa, p0 + pt, Avx512BW.PermuteVar32x16(s0, ia)), ub, xb, p0 + pt + 32, Avx512BW.PermuteVar32x16(s0, ib));
                TB.Codes128(b1, h, out ua, out ub);
                i1 = Pair<TB>(Pair<TB>(i1, ua, xa, p0 + pt, Avx512BW.PermuteVar32x16(s1, ia)), ub, xb, p0 + pt + 32, Avx512BW.PermuteVar32x16(s1, ib));
                TB.Codes128(b2, h, out ua, out ub);
                i2 = Pair<TB>(Pair<TB>(i2, ua, xa, p0 + pt, Avx512BW.PermuteVar32x16(s2, ia)), ub, xb, p0 + pt + 32, Avx512BW.PermuteVar32x16(s2, ib));
                TB.Codes128(b3, h, out ua, out ub);
                i3 = Pair<TB>(Pair<TB>(i3, ua, xa, p0 + pt, Avx512BW.PermuteVar32x16(s3, ia)), ub, xb, p0 + pt + 32, Avx512BW.PermuteVar32x16(s3, ib));
            }
            ints[0] = Halves(i0); ints[1] = Halves(i1); ints[2] = Halves(i2); ints[3] = Halves(i3);
            Step4x1<TB>(ints, rows, act, t, sb, st);
        }
    }

    // ---- AVX-512BW, Q4_K GEMM: every float step on all 16 outputs of the tile at once ----------------------

    /// <summary>
    /// A 4 rows × 4 tokens Q4_K tile, returned as lanes [row, token]. The same integer totals and the same f32
    /// operations per output, in the same order, as <see cref="Tile4x4Wide{TB}"/> with <see cref="Step4x4{TB}"/>
    /// (one FMA per 64-value span into the sums, one per span into the mins, the mins subtracted at the end), but
    /// the sixteen outputs are the sixteen lanes of one vector: the integer accumulators are reduced by a
    /// transpose tree straight into [row, token] lanes, so a float step is one 512-bit FMA instead of four
    /// horizontal reductions and four 128-bit FMAs (measured: the per-row steps took over half of Q4_K prefill).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Tile4x4Spans<TB>(byte* w0, byte* w1, byte* w2, byte* w3, ActivationBuffer act, int t, KRow* rows)
        where TB : struct, IKBlock
    {
        int k = act.K, blocks = k / 256, pairs = k / 32;
        sbyte* c0 = act.Codes + (long)t * k, c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
        short* ps0 = act.PairSums + (long)t * pairs, ps1 = ps0 + pairs, ps2 = ps1 + pairs, ps3 = ps2 + pairs;
        float* da0 = act.Scales + (long)t * blocks;
        Vector512<float> sums = default, mins = default; // [row, token]
        for (int sb = 0; sb < blocks; sb++)
        {
            PrepareBlocks<TB>(w0, w1, w2, w3, sb, rows, out byte* b0, out byte* b1, out byte* b2, out byte* b3);

            // d_w·d_a and dmin_w·d_a per [row, token], as the 128-bit steps computed them
            Vector128<float> da = Vector128.Create(da0[sb], da0[sb + blocks], da0[sb + 2 * blocks], da0[sb + 3 * blocks]);
            Vector512<float> daTile = Vector512.Create(Vector256.Create(da, da), Vector256.Create(da, da));
            Vector512<float> scale = Avx512F.Multiply(PerRow(rows[0].D, rows[1].D, rows[2].D, rows[3].D), daTile);
            Vector512<float> minScale = Avx512F.Multiply(PerRow(rows[0].DMin, rows[1].DMin, rows[2].DMin, rows[3].DMin), daTile);

            // The mins' span totals: block r of m_j = row r's four spans for token j; a per-block 4×4 transpose
            // turns them into one [row, token] vector per span.
            Vector512<short> rowMins = Vector512.Create(
                Vector256.Create(rows[0].Scales.GetUpper(), rows[1].Scales.GetUpper()),
                Vector256.Create(rows[2].Scales.GetUpper(), rows[3].Scales.GetUpper()));
            Vector512<int> m0 = Avx512BW.MultiplyAddAdjacent(rowMins, Quad(ps0 + 8 * sb)), m1 = Avx512BW.MultiplyAddAdjacent(rowMins, Quad(ps1 + 8 * sb));
            Vector512<int> m2 = Avx512BW.MultiplyAddAdjacent(rowMins, Quad(ps2 + 8 * sb)), m3 = Avx512BW.MultiplyAddAdjacent(rowMins, Quad(ps3 + 8 * sb));
            Vector512<int> lo01 = Avx512F.UnpackLow(m0, m1), lo23 = Avx512F.UnpackLow(m2, m3);
            Vector512<int> hi01 = Avx512F.UnpackHigh(m0, m1), hi23 = Avx512F.UnpackHigh(m2, m3);
            mins = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.UnpackLow(lo01.AsInt64(), lo23.AsInt64()).AsInt32()), minScale, mins);
            mins = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.UnpackHigh(lo01.AsInt64(), lo23.AsInt64()).AsInt32()), minScale, mins);
            mins = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.UnpackLow(hi01.AsInt64(), hi23.AsInt64()).AsInt32()), minScale, mins);
            mins = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.UnpackHigh(hi01.AsInt64(), hi23.AsInt64()).AsInt32()), minScale, mins);

            Vector512<short> s0 = rows[0].Scales.ToVector512Unsafe(), s1 = rows[1].Scales.ToVector512Unsafe();
            Vector512<short> s2 = rows[2].Scales.ToVector512Unsafe(), s3 = rows[3].Scales.ToVector512Unsafe();
            for (int h = 0; h < 2; h++)
            {
                // a: chunks 4h | 4h+2 (low nibbles), b: chunks 4h+1 | 4h+3; each 512-bit accumulator: span 2h | span 2h+1
                TB.Codes128(b0, h, out Vector512<byte> u0a, out Vector512<byte> u0b);
                TB.Codes128(b1, h, out Vector512<byte> u1a, out Vector512<byte> u1b);
                TB.Codes128(b2, h, out Vector512<byte> u2a, out Vector512<byte> u2b);
                TB.Codes128(b3, h, out Vector512<byte> u3a, out Vector512<byte> u3b);
                int at = 256 * sb + 128 * h;
                Vector512<short> ia = HalfIndex<TB>(h, false), ib = HalfIndex<TB>(h, true);
                Vector512<short> v0 = Avx512BW.PermuteVar32x16(s0, ia), v1 = Avx512BW.PermuteVar32x16(s1, ia);
                Vector512<short> v2 = Avx512BW.PermuteVar32x16(s2, ia), v3 = Avx512BW.PermuteVar32x16(s3, ia);
                Vector512<sbyte> a0 = Split(c0 + at), a1 = Split(c1 + at), a2 = Split(c2 + at), a3 = Split(c3 + at);
                Vector512<int> i00 = Dot(u0a, a0, v0), i01 = Dot(u0a, a1, v0), i02 = Dot(u0a, a2, v0), i03 = Dot(u0a, a3, v0);
                Vector512<int> i10 = Dot(u1a, a0, v1), i11 = Dot(u1a, a1, v1), i12 = Dot(u1a, a2, v1), i13 = Dot(u1a, a3, v1);
                Vector512<int> i20 = Dot(u2a, a0, v2), i21 = Dot(u2a, a1, v2), i22 = Dot(u2a, a2, v2), i23 = Dot(u2a, a3, v2);
                Vector512<int> i30 = Dot(u3a, a0, v3), i31 = Dot(u3a, a1, v3), i32 = Dot(u3a, a2, v3), i33 = Dot(u3a, a3, v3);
                v0 = Avx512BW.PermuteVar32x16(s0, ib); v1 = Avx512BW.PermuteVar32x16(s1, ib);
                v2 = Avx512BW.PermuteVar32x16(s2, ib); v3 = Avx512BW.PermuteVar32x16(s3, ib);
                a0 = Split(c0 + at + 32); a1 = Split(c1 + at + 32); a2 = Split(c2 + at + 32); a3 = Split(c3 + at + 32);
                i00 = Avx512F.Add(i00, Dot(u0b, a0, v0)); i01 = Avx512F.Add(i01, Dot(u0b, a1, v0)); i02 = Avx512F.Add(i02, Dot(u0b, a2, v0)); i03 = Avx512F.Add(i03, Dot(u0b, a3, v0));
                i10 = Avx512F.Add(i10, Dot(u1b, a0, v1)); i11 = Avx512F.Add(i11, Dot(u1b, a1, v1)); i12 = Avx512F.Add(i12, Dot(u1b, a2, v1)); i13 = Avx512F.Add(i13, Dot(u1b, a3, v1));
                i20 = Avx512F.Add(i20, Dot(u2b, a0, v2)); i21 = Avx512F.Add(i21, Dot(u2b, a1, v2)); i22 = Avx512F.Add(i22, Dot(u2b, a2, v2)); i23 = Avx512F.Add(i23, Dot(u2b, a3, v2));
                i30 = Avx512F.Add(i30, Dot(u3b, a0, v3)); i31 = Avx512F.Add(i31, Dot(u3b, a1, v3)); i32 = Avx512F.Add(i32, Dot(u3b, a2, v3)); i33 = Avx512F.Add(i33, Dot(u3b, a3, v3));

                // Totals per row: 128-bit blocks = [span 2h lanes 0-3, lanes 4-7, span 2h+1 lanes 0-3, 4-7], lanes = tokens
                Vector512<int> r0 = RowTotals(i00, i01, i02, i03), r1 = RowTotals(i10, i11, i12, i13);
                Vector512<int> r2 = RowTotals(i20, i21, i22, i23), r3 = RowTotals(i30, i31, i32, i33);
                // [lo0, hi0, lo1, hi1] and [lo2, hi2, lo3, hi3], then [lo0..lo3] and [hi0..hi3]
                Vector512<int> q01 = Avx512F.Add(Avx512F.Shuffle4x128(r0, r1, 0b10_00_10_00), Avx512F.Shuffle4x128(r0, r1, 0b11_01_11_01));
                Vector512<int> q23 = Avx512F.Add(Avx512F.Shuffle4x128(r2, r3, 0b10_00_10_00), Avx512F.Shuffle4x128(r2, r3, 0b11_01_11_01));
                Vector512<int> first = Avx512F.Shuffle4x128(q01, q23, 0b10_00_10_00), second = Avx512F.Shuffle4x128(q01, q23, 0b11_01_11_01);
                sums = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(first), scale, sums);
                sums = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(second), scale, sums);
            }
        }
        return Avx512F.Subtract(sums, mins);
    }

    /// <summary>madd(maddubs(u, a), scales): one 64-value product of unsigned codes with activation codes, scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<byte> u, Vector512<sbyte> a, Vector512<short> scales) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, a), scales);

    /// <summary>Activation codes x[0..32) | x[64..96): the layout of an interleaved 128-value half's code vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Split(sbyte* x) =>
        Avx512F.InsertVector256(Avx.LoadVector256(x).ToVector512Unsafe(), Avx.LoadVector256(x + 64), 1);

    /// <summary>Eight int16 at <paramref name="p"/> in all four 128-bit blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Quad(short* p)
    {
        Vector128<short> v = Sse2.LoadVector128(p);
        return Vector512.Create(Vector256.Create(v, v), Vector256.Create(v, v));
    }

    /// <summary>[a, a, a, a, b, b, b, b, c, …, d]: one value per row, for [row, token] lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PerRow(float a, float b, float c, float d) =>
        Vector512.Create(Vector256.Create(Vector128.Create(a), Vector128.Create(b)), Vector256.Create(Vector128.Create(c), Vector128.Create(d)));

    /// <summary>
    /// Four tokens' accumulators of one row reduced within each 128-bit block: block q, lane j = the sum of the
    /// four int32 of block q of token j's accumulator (exact).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> RowTotals(Vector512<int> t0, Vector512<int> t1, Vector512<int> t2, Vector512<int> t3)
    {
        Vector512<int> p01 = Avx512F.Add(Avx512F.UnpackLow(t0, t1), Avx512F.UnpackHigh(t0, t1)); // [t0 0+2, t1 0+2, t0 1+3, t1 1+3]
        Vector512<int> p23 = Avx512F.Add(Avx512F.UnpackLow(t2, t3), Avx512F.UnpackHigh(t2, t3));
        return Avx512F.Add(Avx512F.UnpackLow(p01.AsInt64(), p23.AsInt64()).AsInt32(), Avx512F.UnpackHigh(p01.AsInt64(), p23.AsInt64()).AsInt32());
    }

    // ---- code extraction helpers ------------------------------------------------------------------------

    // The chunk/pair loops are not unrolled, so some shift counts below are variables (a vpsrlw with an xmm
    // count, which costs the same as the immediate form).
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

    /// <summary>
    /// get_scale_min_k4 for all eight sub-blocks of a Q4_K/Q5_K super-block at once (ggml's utmp shuffle in
    /// SIMD): int16 lanes 0..7 the 6-bit scales, lanes 8..15 the 6-bit mins.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> ScalesAndMins(byte* block)
    {
        Vector128<uint> h = Sse2.LoadVector128((uint*)block);                 // [d | dmin, u0, u1, u2]
        Vector128<uint> a = Sse2.Shuffle(h, 0b11_10_11_01);                   // [u0, u2, u1, u2]
        Vector128<uint> b = Sse2.Shuffle(h, 0b10_10_01_01);                   // [u0, u0, u1, u1]
        Vector128<uint> low6 = Sse2.And(a, Vector128.Create(0x3f3f3f3fu, 0, 0x3f3f3f3fu, 0));
        Vector128<uint> high4 = Sse2.And(Avx2.ShiftRightLogicalVariable(a, Vector128.Create(0u, 0, 0, 4)), Vector128.Create(0u, 0x0f0f0f0fu, 0, 0x0f0f0f0fu));
        Vector128<uint> top2 = Sse2.ShiftLeftLogical(Sse2.And(Sse2.ShiftRightLogical(b, 6), Vector128.Create(0u, 0x03030303u, 0, 0x03030303u)), 4);
        // [scales 0..3, scales 4..7, mins 0..3, mins 4..7] as bytes, widened
        return Avx2.ConvertToVector256Int16(Sse2.Or(Sse2.Or(low6, high4), top2).AsByte());
    }

    /// <summary>32 bytes at <paramref name="p"/> in both halves of a 512-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ushort> Twice(byte* p)
    {
        Vector256<ushort> v = Avx.LoadVector256((ushort*)p);
        return Avx512F.InsertVector256(v.ToVector512Unsafe(), v, 1);
    }

    /// <summary>
    /// Both halves of <paramref name="v"/> shifted right by <paramref name="low"/> (lower 32 bytes) and
    /// <paramref name="high"/> (upper 32 bytes), then masked to <paramref name="mask"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Fields(Vector512<ushort> v, int low, int high, byte mask)
    {
        var counts = Avx512BW.Add(Avx512F.And(UpperHalf(), Vector512.Create((ushort)(high - low))), Vector512.Create((ushort)low));
        return Avx512F.And(Avx512BW.ShiftRightLogicalVariable(v, counts).AsByte(), Vector512.Create(mask));
    }

    // Constants written out lane by lane so the JIT embeds them (a static readonly field would need a
    // class-initialisation check inside the fully optimised kernels, and that helper call spills every vector).

    /// <summary>0 in the lower 16 uint16 lanes, all ones in the upper 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> UpperHalf() => Vector512.Create(
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, (ushort)0xFFFF);


    /// <summary>Moves 0/1 (or 0..3) byte values up by <paramref name="to"/> bits (no carries between bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Up(Vector512<byte> v, byte to) => Avx512BW.ShiftLeftLogical(v.AsUInt16(), to).AsByte();
#pragma warning restore CA1857
}
