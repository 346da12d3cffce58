using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// Causal GQA attention over the ragged per-head cache, one item per (query row, query head): scores q·k/√d for
/// every cached token whose position is ≤ the query's, f32 softmax with the sum in f64 (as the reference), then
/// the probability-weighted sum of values. Keys and values are read in place from F32 or F16 storage; other
/// storage types are read row by row through <see cref="KvRows.Read"/>.
/// <para>
/// With <see cref="AttentionStatistics"/> the split becomes one item per query head, which runs its rows in order
/// and adds each counted row's probabilities to that head's sums: every sum is built by one thread in a fixed
/// order, so the statistics are as deterministic as the output, and each (row, head) output is computed by the
/// same code as without statistics (the same bits).
/// </para>
/// </summary>
internal sealed unsafe class AttentionWork : IParallelWork
{
    private readonly float[][] _scores;  // [worker][capacity]
    private readonly float[][] _rows;    // [worker][keyDim + valueDim] for storage without direct access
    private KvCache _cache = null!;
    private AttentionStatistics? _statistics;
    private int _layer, _heads, _group, _keyDim, _valueDim, _qCols, _oCols, _rowCount;
    private int[] _positions = [];
    private float* _q, _out;
    private float _scale;

    /// <summary>Creates the job object for <paramref name="threads"/> workers.</summary>
    public AttentionWork(int threads)
    {
        _scores = new float[threads][];
        _rows = new float[threads][];
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
        if (_positions.Length < positions.Length) _positions = new int[Math.Max(positions.Length, 2 * _positions.Length)];
        positions.CopyTo(_positions);
        int longest = 0;
        for (int h = 0; h < cache.KvHeadCount; h++) longest = Math.Max(longest, cache.Head(layer, h).Count);
        for (int w = 0; w < _scores.Length; w++)
        {
            if (_scores[w] is null || _scores[w].Length < longest)
                _scores[w] = GC.AllocateArray<float>((int)Math.Max(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)longest)), pinned: true);
            if (_rows[w] is null || _rows[w].Length < _keyDim + _valueDim)
                _rows[w] = GC.AllocateArray<float>(_keyDim + _valueDim, pinned: true);
        }
        _rowCount = positions.Length;
        _statistics = statistics;
        if (statistics is null) return positions.Length * _heads;
        // Size every head's sums here, on one thread; the items only add to them.
        for (int h = 0; h < _heads; h++) statistics.Accumulator(h, cache.Head(layer, h / _group).Count);
        return _heads;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        if (_statistics is null)
        {
            Attend(item / _heads, item % _heads, worker, default);
            return;
        }
        int h = item;
        var sums = _statistics.Accumulator(h, _cache.Head(_layer, h / _group).Count);
        for (int r = 0; r < _rowCount; r++) Attend(r, h, worker, _statistics.Counts(_positions[r]) ? sums : default);
    }

    /// <summary>
    /// Row <paramref name="r"/>, query head <paramref name="h"/>; adds the probabilities to <paramref name="sums"/>
    /// unless it is empty (the row is not counted, or no statistics were asked for).
    /// </summary>
    private void Attend(int r, int h, int worker, Span<float> sums)
    {
        KvHead head = _cache.Head(_layer, h / _group);
        int visible = Visible(head.Positions, _positions[r]);
        float* q = _q + (long)r * _qCols + h * _keyDim;
        float* o = _out + (long)r * _oCols + h * _valueDim;
        new Span<float>(o, _valueDim).Clear();
        if (visible == 0) return;
        fixed (float* scores = _scores[worker], row = _rows[worker])
        {
            // scores and their maximum
            float max = float.NegativeInfinity;
            if (head.Keys is DenseKvRows<float> f32Keys)
            {
                fixed (float* keys = f32Keys.Data)
                    for (int j = 0; j < visible; j++) max = MathF.Max(max, scores[j] = Dot(q, keys + (long)j * _keyDim, _keyDim) * _scale);
            }
            else if (head.Keys is DenseKvRows<Half> f16Keys)
            {
                fixed (Half* keys = f16Keys.Data)
                    for (int j = 0; j < visible; j++) max = MathF.Max(max, scores[j] = DotHalf(q, (ushort*)keys + (long)j * _keyDim, _keyDim) * _scale);
            }
            else
            {
                var key = new Span<float>(row, _keyDim);
                for (int j = 0; j < visible; j++)
                {
                    head.Keys.Read(j, key);
                    max = MathF.Max(max, scores[j] = Dot(q, row, _keyDim) * _scale);
                }
            }

            // softmax: exp(s − max), f64 sum, one f32 reciprocal
            var p = new Span<float>(scores, visible);
            TensorPrimitives.Subtract(p, max, p);
            TensorPrimitives.Exp(p, p);
            float inv = (float)(1.0 / SumDouble(scores, visible));
            if (!sums.IsEmpty) TensorPrimitives.MultiplyAdd(p, inv, sums[..visible], sums[..visible]); // Σ p_j·inv

            // o = Σ p_j·inv · v_j
            if (head.Values is DenseKvRows<float> f32Values)
            {
                fixed (float* values = f32Values.Data)
                    for (int j = 0; j < visible; j++) Axpy(o, scores[j] * inv, values + (long)j * _valueDim, _valueDim);
            }
            else if (head.Values is DenseKvRows<Half> f16Values)
            {
                fixed (Half* values = f16Values.Data)
                    for (int j = 0; j < visible; j++) AxpyHalf(o, scores[j] * inv, (ushort*)values + (long)j * _valueDim, _valueDim);
            }
            else
            {
                var value = new Span<float>(row + _keyDim, _valueDim);
                for (int j = 0; j < visible; j++)
                {
                    head.Values.Read(j, value);
                    Axpy(o, scores[j] * inv, row + _keyDim, _valueDim);
                }
            }
        }
    }

    /// <summary>How many cached tokens (ascending positions) have position ≤ <paramref name="position"/>.</summary>
    private static int Visible(ReadOnlySpan<int> positions, int position)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float r = 0;
        if (Fma.IsSupported)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), s0);
                s1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), Avx.LoadVector256(b + i + 8), s1);
            }
            for (; i + 8 <= n; i += 8) s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), s0);
            r = Simd.Sum8(Avx.Add(s0, s1));
        }
        for (; i < n; i++) r += a[i] * b[i];
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotHalf(float* a, ushort* b, int n)
    {
        int i = 0;
        float r = 0;
        if (Fma.IsSupported)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Simd.LoadHalf8(b + i), s0);
                s1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), Simd.LoadHalf8(b + i + 8), s1);
            }
            for (; i + 8 <= n; i += 8) s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Simd.LoadHalf8(b + i), s0);
            r = Simd.Sum8(Avx.Add(s0, s1));
        }
        for (; i < n; i++) r += a[i] * Simd.HalfTable[b[i]];
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float* o, float p, float* v, int n)
    {
        int i = 0;
        if (Fma.IsSupported)
        {
            var pv = Vector256.Create(p);
            for (; i + 8 <= n; i += 8) Avx.Store(o + i, Fma.MultiplyAdd(pv, Avx.LoadVector256(v + i), Avx.LoadVector256(o + i)));
        }
        for (; i < n; i++) o[i] += p * v[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyHalf(float* o, float p, ushort* v, int n)
    {
        int i = 0;
        if (Fma.IsSupported)
        {
            var pv = Vector256.Create(p);
            for (; i + 8 <= n; i += 8) Avx.Store(o + i, Fma.MultiplyAdd(pv, Simd.LoadHalf8(v + i), Avx.LoadVector256(o + i)));
        }
        for (; i < n; i++) o[i] += p * Simd.HalfTable[v[i]];
    }
}
