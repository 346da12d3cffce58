using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// Causal GQA attention over the ragged per-head cache. One item is (up to 4 consecutive query rows, one query
/// head): each cached key is loaded once for the four queries (prefill) or four keys are scored at once (a
/// single query, decoding). Both products are summed in the lane order of llama.cpp's f32 attention on AVX-512
/// (tinyBLAS: sixteen FMA lanes, then <c>_mm512_reduce_add_ps</c>). Scores q·k/√d cover the cached tokens
/// whose position is ≤ the query's; softmax is f32 with the sum in f64 (as the reference). Keys and values are read in place from F32
/// storage; other storage types (F16, KIVI codes, merged layer pairs) are decoded by <see cref="KvRows.ReadRows"/> into a
/// per-worker f32 copy of the KV head, made once per job and worker and reused by every item of that KV head the
/// worker runs (items are ordered head-major so a worker's consecutive items share it), then scored by the F32 kernels: the rows are bit for bit what <see cref="KvRows.Read"/> gives, so
/// the outputs equal the reference backend's, and decoding costs a vectorised pass instead of a virtual call per row.
/// <para>
/// With <see cref="AttentionStatistics"/> the split becomes one item per query head, which runs its query blocks in
/// order and adds each counted row's normalised probabilities to that head's sums: every sum is built by one
/// thread in a fixed order, so the statistics are as deterministic as the output, and each output is computed by
/// the same code as without statistics (the same bits).
/// </para>
/// </summary>
internal sealed unsafe class AttentionWork : IParallelWork
{
    private const int QueryBlock = 4;
    private readonly float[][] _scores;  // [worker][QueryBlock · capacity]
    private readonly float[][] _decoded; // [worker][capacity · (keyDim + valueDim)] f32 keys, then values, of one KV head whose storage is not dense
    private readonly long[] _decodedFor; // [worker] which (job, KV head) _decoded holds: job · 2^20 + KV head + 1
    private long _job;
    private readonly float[][] _lanes;   // [worker][64 · valueDim] partial sums of the weighted values
    private readonly int[] _capacity;    // [worker] scores per query row
    private KvCache _cache = null!;
    private int _layer, _heads, _group, _keyDim, _valueDim, _qCols, _oCols, _rowsCount, _blocks;
    private AttentionStatistics? _statistics;
    private int[] _positions = [];
    private float* _q, _out;
    private float _scale;

    /// <summary>Creates the job object for <paramref name="threads"/> workers.</summary>
    public AttentionWork(int threads)
    {
        _scores = new float[threads][];
        _decoded = new float[threads][];
        _decodedFor = new long[threads];
        _lanes = new float[threads][];
        _capacity = new int[threads];
    }

    /// <summary>Configures the job and returns its item count (rows × heads; heads alone with statistics).</summary>
    public int Set(float* q, int qCols, KvCache cache, int layer, ReadOnlySpan<int> positions, float* output, int oCols,
        AttentionStatistics? statistics)
    {
        _cache = cache;
        _layer = layer;
        _keyDim = cache.KeyDim;
        _valueDim = cache.ValueDim;
        _heads = qCols / _keyDim;
        _group = _heads / cache.KvHeadCount;
        _scale = 1.0f / MathF.Sqrt(_keyDim);
        _q = q;
        _qCols = qCols;
        _out = output;
        _oCols = oCols;
        _rowsCount = positions.Length;
        if (_positions.Length < positions.Length) _positions = new int[Math.Max(positions.Length, 2 * _positions.Length)];
        positions.CopyTo(_positions);
        int longest = 0;
        bool decodes = false;
        for (int h = 0; h < cache.KvHeadCount; h++)
        {
            KvHead head = cache.Head(layer, h);
            longest = Math.Max(longest, head.Count);
            decodes |= !IsDense(head.Keys) || !IsDense(head.Values);
        }
        _job++;
        for (int w = 0; w < _scores.Length; w++)
        {
            if (_capacity[w] < longest)
            {
                _capacity[w] = (int)Math.Max(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)longest));
                _scores[w] = GC.AllocateArray<float>(QueryBlock * _capacity[w], pinned: true);
            }
            if (decodes && (_decoded[w] is null || _decoded[w].Length < (long)_capacity[w] * (_keyDim + _valueDim)))
                _decoded[w] = GC.AllocateArray<float>(_capacity[w] * (_keyDim + _valueDim), pinned: true);
            if (_lanes[w] is null || _lanes[w].Length < 64 * _valueDim)
                _lanes[w] = GC.AllocateArray<float>(64 * _valueDim, pinned: true);
        }
        _statistics = statistics;
        int blocks = (positions.Length + QueryBlock - 1) / QueryBlock;
        _blocks = blocks;
        if (statistics is null) return blocks * _heads;
        // Size every head's sums here, on one thread; the items only add to them.
        for (int h = 0; h < _heads; h++) statistics.Accumulator(h, cache.Head(layer, h / _group).Count);
        return _heads;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int item, int worker)
    {
        if (_statistics is null)
        {
            // head-major: consecutive items share a KV head, so a worker's decoded copy and the caches serve a run
            AttendBlock(item % _blocks * QueryBlock, item / _blocks, worker, default);
            return;
        }
        int h = item;
        var sums = _statistics.Accumulator(h, _cache.Head(_layer, h / _group).Count);
        for (int r0 = 0; r0 < _rowsCount; r0 += QueryBlock) AttendBlock(r0, h, worker, sums);
    }

    /// <summary>
    /// Query rows [r0, r0 + 4) (fewer at the end), query head <paramref name="h"/>; adds the counted rows'
    /// probabilities to <paramref name="sums"/> unless it is empty (no statistics were asked for).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AttendBlock(int r0, int h, int worker, Span<float> sums)
    {
        int nq = Math.Min(QueryBlock, _rowsCount - r0);
        KvHead head = _cache.Head(_layer, h / _group);
        ReadOnlySpan<int> cached = head.Positions;
        Span<int> visible = stackalloc int[QueryBlock];
        int maxVisible = 0;
        for (int i = 0; i < nq; i++)
        {
            visible[i] = Visible(cached, _positions[r0 + i]);
            maxVisible = Math.Max(maxVisible, visible[i]);
            new Span<float>(Output(r0 + i, h), _valueDim).Clear();
        }
        if (maxVisible == 0) return;
        int capacity = _capacity[worker];
        fixed (float* scores = _scores[worker], decoded = _decoded[worker], lanes = _lanes[worker])
        {
            float* decodedKeys = decoded, decodedValues = decoded + (long)capacity * _keyDim;
            long decodedFor = (_job << 20) + h / _group + 1;
            if (_decodedFor[worker] != decodedFor && (!IsDense(head.Keys) || !IsDense(head.Values)))
            {
                // the storage cannot change during a job, so one decode serves every query head of this KV head
                if (!IsDense(head.Keys)) head.Keys.ReadRows(0, head.Count, new Span<float>(decodedKeys, head.Count * _keyDim));
                if (!IsDense(head.Values)) head.Values.ReadRows(0, head.Count, new Span<float>(decodedValues, head.Count * _valueDim));
                _decodedFor[worker] = decodedFor;
            }
            if (head.Keys is DenseKvRows<float> f32Keys)
            {
                fixed (float* keys = f32Keys.Data) Score((byte*)keys, r0, nq, h, maxVisible, scores, capacity);
            }
            else Score((byte*)decodedKeys, r0, nq, h, maxVisible, scores, capacity);

            for (int i = 0; i < nq; i++)
            {
                Softmax(scores + i * capacity, visible[i]);
                if (!sums.IsEmpty && _statistics!.Counts(_positions[r0 + i]))
                    TensorPrimitives.Add(sums[..visible[i]], new ReadOnlySpan<float>(scores + i * capacity, visible[i]), sums[..visible[i]]);
            }

            if (head.Values is DenseKvRows<float> f32Values)
            {
                fixed (float* values = f32Values.Data) WeightedRows(r0, nq, h, scores, capacity, visible, (byte*)values, lanes);
            }
            else
            {
                WeightedRows(r0, nq, h, scores, capacity, visible, (byte*)decodedValues, lanes);
            }
        }
    }

    /// <summary>
    /// Rows the kernels read in place: f32 only. F16 rows are widened once per KV head and worker into the decoded
    /// copy (a vectorised conversion, exact) rather than per load: the kernels load each key once per query row
    /// or head, and widening in the inner loops made f16 attention 4.5× slower than f32 (measured at 2k tokens).
    /// </summary>
    private static bool IsDense(KvRows rows) => rows is DenseKvRows<float>;

    private float* Query(int r, int h) => _q + (long)r * _qCols + h * _keyDim;

    private float* Output(int r, int h) => _out + (long)r * _oCols + h * _valueDim;

    /// <summary>scores[i·capacity + j] = q_i·k_j·scale for j &lt; count (rows past a query's visible range are ignored later).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Score(byte* keys, int r0, int nq, int h, int count, float* scores, int capacity)
    {
        int kd = _keyDim;
        long keyBytes = (long)kd * sizeof(float);
        var scale = Vector128.Create(_scale);
        if (nq == 1)
        {
            // one query: four keys per step
            float* q = Query(r0, h);
            if (!Fma.IsSupported)
            {
                for (int j = 0; j < count; j++) scores[j] = DotRow(q, keys + j * keyBytes, kd) * _scale;
                return;
            }
            if (Simd.UseAvx512 && kd % 64 == 0)
            {
                ScoreKeys(q, keys, keyBytes, count, scores);
                return;
            }
            for (int j = 0; j < count; j += 4)
            {
                // past the end the last key is repeated (and its extra scores dropped), so every score comes
                // from the same arithmetic as in the four-query path
                byte* k0 = keys + j * keyBytes;
                byte* k1 = j + 1 < count ? k0 + keyBytes : k0;
                byte* k2 = j + 2 < count ? k1 + keyBytes : k1;
                byte* k3 = j + 3 < count ? k2 + keyBytes : k2;
                Vector128<float> s = Sse.Multiply(Dot4Keys(q, k0, k1, k2, k3, kd), scale);
                if (j + 4 <= count) s.Store(scores + j);
                else for (int i = 0; j + i < count; i++) scores[j + i] = s.GetElement(i);
            }
            return;
        }
        float* q0 = Query(r0, h);
        float* q1 = nq > 1 ? Query(r0 + 1, h) : q0;
        float* q2 = nq > 2 ? Query(r0 + 2, h) : q1;
        float* q3 = nq > 3 ? Query(r0 + 3, h) : q2;
        if (Simd.UseAvx512 && kd % 64 == 0)
        {
            ScoreTiles(q0, q1, q2, q3, keys, keyBytes, count, kd, _scale, scores, scores + capacity, scores + 2 * capacity, scores + 3 * capacity);
            return;
        }
        for (int j = 0; j < count; j++)
        {
            byte* k = keys + j * keyBytes;
            if (Fma.IsSupported)
            {
                Vector128<float> s = Sse.Multiply(Dot4Queries(q0, q1, q2, q3, k, kd), scale);
                scores[j] = s.GetElement(0);
                scores[capacity + j] = s.GetElement(1);
                scores[2 * capacity + j] = s.GetElement(2);
                scores[3 * capacity + j] = s.GetElement(3);
            }
            else
            {
                scores[j] = DotRow(q0, k, kd) * _scale;
                scores[capacity + j] = DotRow(q1, k, kd) * _scale;
                scores[2 * capacity + j] = DotRow(q2, k, kd) * _scale;
                scores[3 * capacity + j] = DotRow(q3, k, kd) * _scale;
            }
        }
    }

    /// <summary>
    /// In place: p = exp(s − max) / Σ as ggml_soft_max_f32 computes it over llama.cpp's padded cell row
    /// (<see cref="GgmlVec.SoftMaxExp"/>): ggml's vector exp, each 16-score chunk reduced in f32 as
    /// <c>_mm512_reduce_add_ps</c> and added to an f64 sum (the masked cells past the visible ones are exact
    /// zeros), then one f32 reciprocal.
    /// </summary>
    [SkipLocalsInit]
    internal static void Softmax(float* s, int n)
    {
        if (n == 0) return;
        var p = new Span<float>(s, n);
        float max = TensorPrimitives.Max(p);
        double sum;
        if (GgmlExpVector.IsSupported)
        {
            var m = Vector256.Create(max);
            sum = 0;
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                Vector256<float> lo = GgmlExpVector.Exp(Avx.Subtract(Avx.LoadVector256(s + i), m));
                Vector256<float> hi = GgmlExpVector.Exp(Avx.Subtract(Avx.LoadVector256(s + i + 8), m));
                lo.Store(s + i);
                hi.Store(s + i + 8);
                sum += Simd.Sum8(Avx.Add(lo, hi));
            }
            if (i < n)
            {
                // the last chunk's masked lanes contribute exp(−∞) = 0
                float* chunk = stackalloc float[16];
                for (int t = 0; t < 16; t++) chunk[t] = i + t < n ? s[i + t] - max : 0f;
                Vector256<float> lo = GgmlExpVector.Exp(Avx.LoadVector256(chunk));
                Vector256<float> hi = GgmlExpVector.Exp(Avx.LoadVector256(chunk + 8));
                lo.Store(chunk);
                hi.Store(chunk + 8);
                for (int t = 0; t < 16; t++)
                    if (i + t < n) s[i + t] = chunk[t];
                    else chunk[t] = 0f;
                sum += Simd.Sum8(Avx.Add(Avx.LoadVector256(chunk), Avx.LoadVector256(chunk + 8)));
            }
        }
        else
        {
            int padded = (n + 15) & ~15;
            float* x = stackalloc float[padded];
            for (int t = 0; t < padded; t++) x[t] = t < n ? s[t] : float.NegativeInfinity;
            float* y = stackalloc float[padded];
            sum = GgmlVec.SoftMaxExp(new ReadOnlySpan<float>(x, padded), new Span<float>(y, padded), max);
            new ReadOnlySpan<float>(y, n).CopyTo(p);
        }
        TensorPrimitives.Multiply(p, (float)(1.0 / sum), p);
    }

    /// <summary>
    /// o = Σ_j p_j·v_j for j &lt; n, summed the way llama.cpp's f32 attention sums it over the transposed V cache:
    /// for batches of two or more rows tinyBLAS, sixteen lanes, lane m collecting the tokens j ≡ m (mod 16) with
    /// FMAs, then the lanes added as <c>_mm512_reduce_add_ps</c> does; for one row ggml_vec_dot_f32, 64 lanes
    /// (four 16-lane accumulators, j ≡ m (mod 64)) folded (0+2)+(1+3) before that reduction. Each lane's sum is
    /// accumulated over 32 dimensions at a time in registers and parked in <paramref name="lanes"/> ([64, valueDim]).
    /// </summary>
    private void Weighted(float* o, float* p, byte* values, int n, float* lanes)
    {
        int vd = _valueDim;
        int laneCount = _rowsCount >= 2 ? 16 : 64;
        long valueBytes = (long)vd * sizeof(float);
        if (vd % 8 != 0 || !Fma.IsSupported)
        {
            for (int d = 0; d < vd; d++)
            {
                float a = 0;
                for (int j = 0; j < n; j++) a += p[j] * F32Values.Load1(values + j * valueBytes, d);
                o[d] = a;
            }
            return;
        }
        for (int m = 0; m < laneCount; m++)
        {
            float* lane = lanes + m * vd;
            int d = 0;
            for (; d + 32 <= vd; d += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                byte* v = values + m * valueBytes + d * sizeof(float);
                for (int j = m; j < n; j += laneCount, v += laneCount * valueBytes)
                {
                    var pj = Vector256.Create(p[j]);
                    a0 = Fma.MultiplyAdd(pj, F32Values.Load8(v, 0), a0);
                    a1 = Fma.MultiplyAdd(pj, F32Values.Load8(v, 8), a1);
                    a2 = Fma.MultiplyAdd(pj, F32Values.Load8(v, 16), a2);
                    a3 = Fma.MultiplyAdd(pj, F32Values.Load8(v, 24), a3);
                }
                a0.Store(lane + d);
                a1.Store(lane + d + 8);
                a2.Store(lane + d + 16);
                a3.Store(lane + d + 24);
            }
            for (; d < vd; d += 8)
            {
                Vector256<float> a = default;
                byte* v = values + m * valueBytes + d * sizeof(float);
                for (int j = m; j < n; j += laneCount, v += laneCount * valueBytes) a = Fma.MultiplyAdd(Vector256.Create(p[j]), F32Values.Load8(v, 0), a);
                a.Store(lane + d);
            }
        }
        if (laneCount == 64)
        {
            // ggml_vec_dot_f32's fold of its four accumulators: (0 + 2) + (1 + 3), each 16 lanes wide
            for (int x = 0; x < 16 * vd; x += 8)
            {
                Vector256<float> a = Avx.Add(Avx.LoadVector256(lanes + x), Avx.LoadVector256(lanes + 32 * vd + x));
                Vector256<float> b = Avx.Add(Avx.LoadVector256(lanes + 16 * vd + x), Avx.LoadVector256(lanes + 48 * vd + x));
                Avx.Store(lanes + x, Avx.Add(a, b));
            }
        }
        ReduceLanes(lanes, vd, o);
    }

    /// <summary>o[d] = the sixteen lanes lanes[m, d] added as <c>_mm512_reduce_add_ps</c> adds them: (m, m+8), then (m, m+4), then (m, m+2), then (m, m+1).</summary>
    internal static void ReduceLanes(float* lanes, int vd, float* o)
    {
        for (int d = 0; d < vd; d += 8)
        {
            Vector256<float> L(int m) => Avx.LoadVector256(lanes + m * vd + d);
            Vector256<float> r =
                Avx.Add(
                    Avx.Add(Avx.Add(Avx.Add(L(0), L(8)), Avx.Add(L(4), L(12))), Avx.Add(Avx.Add(L(2), L(10)), Avx.Add(L(6), L(14)))),
                    Avx.Add(Avx.Add(Avx.Add(L(1), L(9)), Avx.Add(L(5), L(13))), Avx.Add(Avx.Add(L(3), L(11)), Avx.Add(L(7), L(15)))));
            r.Store(o + d);
        }
    }

    /// <summary>
    /// The weighted value sums of query rows [r0, r0 + nq) of head <paramref name="h"/>: the batch path
    /// (<see cref="WeightedTiles"/>) when the value width is a multiple of 64 on AVX-512, else row by row.
    /// </summary>
    private void WeightedRows(int r0, int nq, int h, float* scores, int capacity, ReadOnlySpan<int> visible, byte* values, float* lanes)
       
    {
        if (_rowsCount >= 2 && Simd.UseAvx512 && _valueDim % 64 == 0)
        {
            WeightedTiles(r0, nq, h, scores, capacity, visible, values, lanes);
            return;
        }
        for (int i = 0; i < nq; i++)
        {
            if (_rowsCount == 1 && Simd.UseAvx512 && _valueDim % 64 == 0) WeightedLanes(Output(r0 + i, h), scores + i * capacity, values, visible[i], lanes);
            else Weighted(Output(r0 + i, h), scores + i * capacity, values, visible[i], lanes);
        }
    }

    /// <summary>
    /// <see cref="Weighted"/> for one query row (decoding: ggml_vec_dot_f32's 64 lanes, lane m collecting the
    /// tokens j ≡ m mod 64) with four lanes at a time: their value rows m..m+3 (+64k) are contiguous, and the
    /// sixteen accumulators (4 lanes × 64 dimensions) are independent, where the lane-by-lane loop waited on four
    /// FMA chains (measured: the value sums were half of decode time at 4k tokens). Same FMAs per lane in the same
    /// order, then the same fold and reduction, so the bits are unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WeightedLanes(float* o, float* p, byte* values, int n, float* lanes)
    {
        int vd = _valueDim;
        long valueBytes = (long)vd * sizeof(float);
        for (int m = 0; m < 64; m += 4)
        {
            for (int d = 0; d < vd; d += 64)
            {
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                byte* v = values + m * valueBytes + d * sizeof(float);
                int j = m;
                for (; j + 3 < n; j += 64, v += 64 * valueBytes)
                {
                    var w = Vector512.Create(p[j]);
                    a00 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 0), a00); a01 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 16), a01);
                    a02 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 32), a02); a03 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 48), a03);
                    byte* v1 = v + valueBytes;
                    w = Vector512.Create(p[j + 1]);
                    a10 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v1, 0), a10); a11 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v1, 16), a11);
                    a12 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v1, 32), a12); a13 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v1, 48), a13);
                    byte* v2 = v1 + valueBytes;
                    w = Vector512.Create(p[j + 2]);
                    a20 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v2, 0), a20); a21 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v2, 16), a21);
                    a22 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v2, 32), a22); a23 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v2, 48), a23);
                    byte* v3 = v2 + valueBytes;
                    w = Vector512.Create(p[j + 3]);
                    a30 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v3, 0), a30); a31 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v3, 16), a31);
                    a32 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v3, 32), a32); a33 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v3, 48), a33);
                }
                float* lane = lanes + m * vd + d;
                Park(lane, a00, a01, a02, a03);
                Park(lane + vd, a10, a11, a12, a13);
                Park(lane + 2 * vd, a20, a21, a22, a23);
                Park(lane + 3 * vd, a30, a31, a32, a33);
                // the loop stopped at j + 3 ≥ n: lanes m .. m+2 may still have token j + i < n (lane m+3 has none)
                for (int i = 0; i < 3; i++)
                    ContinueLane(lane + i * vd, p + i, v + i * valueBytes, j, n - i, valueBytes, 64);
            }
        }
        FoldLanes64(lanes, vd);
        ReduceLanes(lanes, vd, o);
    }

    /// <summary>
    /// ggml_vec_dot_f32's fold of its four 16-lane accumulators, (0 + 2) + (1 + 3), over 64 lanes [64, vd]
    /// (vd a multiple of 16), into the first 16.
    /// </summary>
    internal static void FoldLanes64(float* lanes, int vd)
    {
        for (int x = 0; x < 16 * vd; x += 16)
        {
            Vector512<float> a = Avx512F.Add(Avx512F.LoadVector512(lanes + x), Avx512F.LoadVector512(lanes + 32 * vd + x));
            Vector512<float> b = Avx512F.Add(Avx512F.LoadVector512(lanes + 16 * vd + x), Avx512F.LoadVector512(lanes + 48 * vd + x));
            Avx512F.Store(lanes + x, Avx512F.Add(a, b));
        }
    }

    /// <summary>
    /// <see cref="Weighted"/>'s sixteen-lane sums (tinyBLAS's order: lane m collects the tokens j ≡ m mod 16
    /// by FMA) for up to four query rows at once: each value row is loaded once for all of them and the sixteen
    /// accumulators (4 rows × 64 dimensions) are independent, where the row-by-row loop reloaded the values per
    /// query row and waited on four FMA chains (measured: the value sums were ~75% of attention at 4k tokens).
    /// Every lane sees the same FMAs in the same order, so the bits are those of the row-by-row path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WeightedTiles(int r0, int nq, int h, float* scores, int capacity, ReadOnlySpan<int> visible, byte* values, float* lanes)
       
    {
        int vd = _valueDim;
        // rows past nq repeat the last one (computed, never stored)
        float* p0 = scores, p1 = nq > 1 ? p0 + capacity : p0, p2 = nq > 2 ? p1 + capacity : p1, p3 = nq > 3 ? p2 + capacity : p2;
        int n0 = visible[0], n1 = visible[Math.Min(1, nq - 1)], n2 = visible[Math.Min(2, nq - 1)], n3 = visible[Math.Min(3, nq - 1)];
        float* l0 = lanes, l1 = l0 + 16 * vd, l2 = l1 + 16 * vd, l3 = l2 + 16 * vd; // [row, 16, vd]
        AccumulateLanes(p0, p1, p2, p3, n0, n1, n2, n3, values, vd, l0, l1, l2, l3, 0, 16, 16);
        ReduceLanes(l0, vd, Output(r0, h));
        if (nq > 1) ReduceLanes(l1, vd, Output(r0 + 1, h));
        if (nq > 2) ReduceLanes(l2, vd, Output(r0 + 2, h));
        if (nq > 3) ReduceLanes(l3, vd, Output(r0 + 3, h));
    }

    /// <summary>
    /// Lanes [<paramref name="mFrom"/>, <paramref name="mTo"/>) of four rows' weighted value sums: lane m of row i
    /// adds p_i[j]·v_j for the tokens j ≡ m (mod <paramref name="stride"/>), j &lt; n_i, by FMA in increasing j, into
    /// l_i[m, 0 .. vd) (vd a multiple of 64). The rows share each loaded value row; their sixteen accumulators
    /// (4 rows × 64 dimensions) are independent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AccumulateLanes(float* p0, float* p1, float* p2, float* p3, int n0, int n1, int n2, int n3, byte* values, int vd,
        float* l0, float* l1, float* l2, float* l3, int mFrom, int mTo, int stride)
    {
        long valueBytes = (long)vd * sizeof(float);
        int common = Math.Min(Math.Min(n0, n1), Math.Min(n2, n3));
        for (int m = mFrom; m < mTo; m++)
        {
            for (int d = 0; d < vd; d += 64)
            {
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                byte* v = values + m * valueBytes + d * sizeof(float);
                int j = m;
                for (; j < common; j += stride, v += stride * valueBytes)
                {
                    Vector512<float> x0 = F32Values.Load16(v, 0), x1 = F32Values.Load16(v, 16), x2 = F32Values.Load16(v, 32), x3 = F32Values.Load16(v, 48);
                    var w = Vector512.Create(p0[j]);
                    a00 = Avx512F.FusedMultiplyAdd(w, x0, a00); a01 = Avx512F.FusedMultiplyAdd(w, x1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(w, x2, a02); a03 = Avx512F.FusedMultiplyAdd(w, x3, a03);
                    w = Vector512.Create(p1[j]);
                    a10 = Avx512F.FusedMultiplyAdd(w, x0, a10); a11 = Avx512F.FusedMultiplyAdd(w, x1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(w, x2, a12); a13 = Avx512F.FusedMultiplyAdd(w, x3, a13);
                    w = Vector512.Create(p2[j]);
                    a20 = Avx512F.FusedMultiplyAdd(w, x0, a20); a21 = Avx512F.FusedMultiplyAdd(w, x1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(w, x2, a22); a23 = Avx512F.FusedMultiplyAdd(w, x3, a23);
                    w = Vector512.Create(p3[j]);
                    a30 = Avx512F.FusedMultiplyAdd(w, x0, a30); a31 = Avx512F.FusedMultiplyAdd(w, x1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(w, x2, a32); a33 = Avx512F.FusedMultiplyAdd(w, x3, a33);
                }
                Park(l0 + m * vd + d, a00, a01, a02, a03);
                Park(l1 + m * vd + d, a10, a11, a12, a13);
                Park(l2 + m * vd + d, a20, a21, a22, a23);
                Park(l3 + m * vd + d, a30, a31, a32, a33);
                // rows that see more tokens than the others (causal rows of one block) finish alone
                ContinueLane(l0 + m * vd + d, p0, v, j, n0, valueBytes, stride);
                ContinueLane(l1 + m * vd + d, p1, v, j, n1, valueBytes, stride);
                ContinueLane(l2 + m * vd + d, p2, v, j, n2, valueBytes, stride);
                ContinueLane(l3 + m * vd + d, p3, v, j, n3, valueBytes, stride);
            }
        }
    }

    /// <summary>Stores 64 accumulated dimensions of one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Park(float* lane, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        a0.Store(lane);
        a1.Store(lane + 16);
        a2.Store(lane + 32);
        a3.Store(lane + 48);
    }

    /// <summary>Adds tokens j, j+stride, … &lt; n of one row to its parked lane (64 dimensions), in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ContinueLane(float* lane, float* p, byte* v, int j, int n, long valueBytes, int stride = 16)
    {
        if (j >= n) return;
        Vector512<float> a0 = Avx512F.LoadVector512(lane), a1 = Avx512F.LoadVector512(lane + 16);
        Vector512<float> a2 = Avx512F.LoadVector512(lane + 32), a3 = Avx512F.LoadVector512(lane + 48);
        for (; j < n; j += stride, v += stride * valueBytes)
        {
            var w = Vector512.Create(p[j]);
            a0 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 0), a0);
            a1 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 16), a1);
            a2 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 32), a2);
            a3 = Avx512F.FusedMultiplyAdd(w, F32Values.Load16(v, 48), a3);
        }
        Park(lane, a0, a1, a2, a3);
    }

    /// <summary>
    /// Four queries × four keys per step (prefill), each score computed as <see cref="DotPair"/> computes it
    /// for a key dimension that is a multiple of 64, but the sixteen horizontal reductions are done together: a
    /// transpose tree whose every level adds the same lane pairs as hsum_float_8 does (lo + hi, then l + l+4, then
    /// (0+2, 1+3), then 0 + 1), so each score has the same bits while a reduction costs about 3 instructions
    /// instead of 10 (it was over half of the score work, which dominates attention at long contexts).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ScoreTiles(float* q0, float* q1, float* q2, float* q3, byte* keys, long keyBytes, int count, int kd, float scaleFactor,
        float* s0, float* s1, float* s2, float* s3)
    {
        var scale = Vector512.Create(scaleFactor);
        for (int j = 0; j < count; j += 4)
        {
            // past the end the last key is repeated and its scores dropped
            byte* k0 = keys + j * keyBytes;
            byte* k1 = j + 1 < count ? k0 + keyBytes : k0;
            byte* k2 = j + 2 < count ? k1 + keyBytes : k1;
            byte* k3 = j + 3 < count ? k2 + keyBytes : k2;
            // level 1: lanes l + l+8 (lo + hi) of two pairs at once; pairs are [key, query]
            Vector512<float> v0 = LoPlusHi(PairLanes(q0, k0, kd), PairLanes(q1, k0, kd));
            Vector512<float> v1 = LoPlusHi(PairLanes(q2, k0, kd), PairLanes(q3, k0, kd));
            Vector512<float> v2 = LoPlusHi(PairLanes(q0, k1, kd), PairLanes(q1, k1, kd));
            Vector512<float> v3 = LoPlusHi(PairLanes(q2, k1, kd), PairLanes(q3, k1, kd));
            Vector512<float> v4 = LoPlusHi(PairLanes(q0, k2, kd), PairLanes(q1, k2, kd));
            Vector512<float> v5 = LoPlusHi(PairLanes(q2, k2, kd), PairLanes(q3, k2, kd));
            Vector512<float> v6 = LoPlusHi(PairLanes(q0, k3, kd), PairLanes(q1, k3, kd));
            Vector512<float> v7 = LoPlusHi(PairLanes(q2, k3, kd), PairLanes(q3, k3, kd));
            // level 2: lanes l + l+4 of each 8-lane pair: block i of u_key = query i's four partial sums
            Vector512<float> u0 = Fours(v0, v1), u1 = Fours(v2, v3), u2 = Fours(v4, v5), u3 = Fours(v6, v7);
            // level 3: (0+2, 1+3) — block i = [key a (0+2, 1+3), key b (0+2, 1+3)] of query i
            Vector512<float> t01 = Twos(u0, u1), t23 = Twos(u2, u3);
            // level 4: 0 + 1 — block i = query i's scores of keys j .. j+3
            Vector512<float> r = Avx512F.Multiply(Avx512F.Add(
                Avx512F.Shuffle(t01, t23, 0b10_00_10_00), Avx512F.Shuffle(t01, t23, 0b11_01_11_01)), scale);
            if (j + 4 <= count)
            {
                r.GetLower().GetLower().Store(s0 + j);
                r.GetLower().GetUpper().Store(s1 + j);
                r.GetUpper().GetLower().Store(s2 + j);
                r.GetUpper().GetUpper().Store(s3 + j);
            }
            else
            {
                for (int i = 0; j + i < count; i++)
                {
                    s0[j + i] = r.GetElement(i);
                    s1[j + i] = r.GetElement(4 + i);
                    s2[j + i] = r.GetElement(8 + i);
                    s3[j + i] = r.GetElement(12 + i);
                }
            }
        }
    }

    /// <summary>
    /// One query against sixteen keys per step (decoding), each score as <see cref="DotPair"/> computes it for
    /// a key dimension that is a multiple of 64, with the sixteen horizontal reductions done as one tree (see
    /// <see cref="ScoreTiles"/>), then put back in key order by one permute.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoreKeys(float* q, byte* keys, long keyBytes, int count, float* scores)
    {
        int kd = _keyDim;
        var scale = Vector512.Create(_scale);
        // r lane 4i + l holds key 4l + i
        var keyOrder = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        float* tail = stackalloc float[16];
        for (int j = 0; j < count; j += 16)
        {
            int last = Math.Min(count - j, 16) - 1; // past the end the last key is repeated and its scores dropped
            byte* k = keys + j * keyBytes;
            Vector512<float> u0 = Fours(LoPlusHi(PairLanes(q, k, kd), PairLanes(q, k + Math.Min(1, last) * keyBytes, kd)),
                                        LoPlusHi(PairLanes(q, k + Math.Min(2, last) * keyBytes, kd), PairLanes(q, k + Math.Min(3, last) * keyBytes, kd)));
            Vector512<float> u1 = Fours(LoPlusHi(PairLanes(q, k + Math.Min(4, last) * keyBytes, kd), PairLanes(q, k + Math.Min(5, last) * keyBytes, kd)),
                                        LoPlusHi(PairLanes(q, k + Math.Min(6, last) * keyBytes, kd), PairLanes(q, k + Math.Min(7, last) * keyBytes, kd)));
            Vector512<float> u2 = Fours(LoPlusHi(PairLanes(q, k + Math.Min(8, last) * keyBytes, kd), PairLanes(q, k + Math.Min(9, last) * keyBytes, kd)),
                                        LoPlusHi(PairLanes(q, k + Math.Min(10, last) * keyBytes, kd), PairLanes(q, k + Math.Min(11, last) * keyBytes, kd)));
            Vector512<float> u3 = Fours(LoPlusHi(PairLanes(q, k + Math.Min(12, last) * keyBytes, kd), PairLanes(q, k + Math.Min(13, last) * keyBytes, kd)),
                                        LoPlusHi(PairLanes(q, k + Math.Min(14, last) * keyBytes, kd), PairLanes(q, k + Math.Min(15, last) * keyBytes, kd)));
            // block i of u_b = key 4b + i's four partial sums
            Vector512<float> t01 = Twos(u0, u1), t23 = Twos(u2, u3);
            Vector512<float> r = Avx512F.Add(Avx512F.Shuffle(t01, t23, 0b10_00_10_00), Avx512F.Shuffle(t01, t23, 0b11_01_11_01));
            r = Avx512F.Multiply(Avx512F.PermuteVar16x32(r, keyOrder), scale);
            if (last == 15) r.Store(scores + j);
            else
            {
                r.Store(tail);
                new ReadOnlySpan<float>(tail, last + 1).CopyTo(new Span<float>(scores + j, last + 1));
            }
        }
    }

    /// <summary>
    /// <see cref="DotPair"/>'s eight 8-lane accumulators for a key dimension that is a multiple of 64, as
    /// 512-bit pairs (a0|a1, a2|a3, a4|a5, a6|a7), folded to lo | hi = ((a0+a4)+(a2+a6)) | ((a1+a5)+(a3+a7)).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> PairLanes(float* q, byte* k, int kd)
    {
        Vector512<float> z0 = default, z1 = default, z2 = default, z3 = default;
        for (int d = 0; d < kd; d += 64)
        {
            z0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + d), F32Values.Load16(k, d), z0);
            z1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + d + 16), F32Values.Load16(k, d + 16), z1);
            z2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + d + 32), F32Values.Load16(k, d + 32), z2);
            z3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + d + 48), F32Values.Load16(k, d + 48), z3);
        }
        return Avx512F.Add(Avx512F.Add(z0, z2), Avx512F.Add(z1, z3));
    }

    /// <summary>[lo(a) + hi(a) | lo(b) + hi(b)] of two lo | hi vectors (8 lanes each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> LoPlusHi(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Add(Avx512F.Shuffle4x128(a, b, 0b01_00_01_00), Avx512F.Shuffle4x128(a, b, 0b11_10_11_10));

    /// <summary>Lanes l + l+4 of each 8-lane half of <paramref name="a"/>, then of <paramref name="b"/>: four 4-lane blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Fours(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Add(Avx512F.Shuffle4x128(a, b, 0b10_00_10_00), Avx512F.Shuffle4x128(a, b, 0b11_01_11_01));

    /// <summary>Per 128-bit block: [a0+a2, a1+a3, b0+b2, b1+b3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Twos(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Add(Avx512F.Shuffle(a, b, 0b01_00_01_00), Avx512F.Shuffle(a, b, 0b11_10_11_10));

    /// <summary>q·k_i for four keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4Keys(float* q, byte* k0, byte* k1, byte* k2, byte* k3, int kd) =>
        Vector128.Create(DotPair(q, k0, kd), DotPair(q, k1, kd), DotPair(q, k2, kd), DotPair(q, k3, kd));

    /// <summary>q_i·k for four queries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4Queries(float* q0, float* q1, float* q2, float* q3, byte* k, int kd) =>
        Vector128.Create(DotPair(q0, k, kd), DotPair(q1, k, kd), DotPair(q2, k, kd), DotPair(q3, k, kd));

    /// <summary>
    /// q·k as ggml_vec_dot_f32 sums it on AVX-512 (<see cref="F32Dot.VecDot"/>): whole 64-element steps into four
    /// 16-lane FMA accumulators (here eight 8-lane ones), folded (0+2)+(1+3) and reduced as
    /// <c>_mm512_reduce_add_ps</c>; the rest added in order, products rounded, the last &lt; 8 by FMA.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotPair(float* q, byte* k, int kd)
    {
        int np = kd & ~63;
        float sum = 0;
        if (np > 0)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int d = 0; d < np; d += 64)
            {
                a0 = Fma.MultiplyAdd(Avx.LoadVector256(q + d), F32Values.Load8(k, d), a0);
                a1 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 8), F32Values.Load8(k, d + 8), a1);
                a2 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 16), F32Values.Load8(k, d + 16), a2);
                a3 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 24), F32Values.Load8(k, d + 24), a3);
                a4 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 32), F32Values.Load8(k, d + 32), a4);
                a5 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 40), F32Values.Load8(k, d + 40), a5);
                a6 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 48), F32Values.Load8(k, d + 48), a6);
                a7 = Fma.MultiplyAdd(Avx.LoadVector256(q + d + 56), F32Values.Load8(k, d + 56), a7);
            }
            Vector256<float> lo = Avx.Add(Avx.Add(a0, a4), Avx.Add(a2, a6));
            Vector256<float> hi = Avx.Add(Avx.Add(a1, a5), Avx.Add(a3, a7));
            sum = Simd.Sum8(Avx.Add(lo, hi));
        }
        int left = kd - np;
        int rounded = np + (left & ~15) + ((left & 15) >= 8 ? 8 : 0);
        int i = np;
        for (; i < rounded; i++) sum += q[i] * F32Values.Load1(k, i);
        for (; i < kd; i++) sum = MathF.FusedMultiplyAdd(q[i], F32Values.Load1(k, i), sum);
        return sum;
    }

    private static float DotRow(float* q, byte* k, int kd)
    {
        float r = 0;
        for (int d = 0; d < kd; d++) r += q[d] * F32Values.Load1(k, d);
        return r;
    }

    /// <summary>How many cached tokens (ascending positions) have position ≤ <paramref name="position"/>.</summary>
    internal static int Visible(ReadOnlySpan<int> positions, int position)
    {
        int lo = 0, hi = positions.Length;
        if (hi > 0 && positions[hi - 1] <= position) return hi;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (positions[mid] <= position) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static double SumDouble(float* p, int n)
    {
        int i = 0;
        double sum = 0;
        if (Avx.IsSupported)
        {
            Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                s0 = Avx.Add(s0, Avx.ConvertToVector256Double(Sse.LoadVector128(p + i)));
                s1 = Avx.Add(s1, Avx.ConvertToVector256Double(Sse.LoadVector128(p + i + 4)));
            }
            sum = Vector256.Sum(Avx.Add(s0, s1));
        }
        for (; i < n; i++) sum += p[i];
        return sum;
    }
}
