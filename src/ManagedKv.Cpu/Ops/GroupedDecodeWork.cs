using System.Runtime.CompilerServices;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;
using ManagedKv.Model.Cache;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// Decoding attention (one query row) for grouped-query models: the query heads that share a KV head are
/// scored and summed together, so each cached key and value is read once per KV head instead of once per query
/// head (at 4k tokens the per-query-head reads were most of decode time: the cache does not fit in L2, and a group
/// of 3–8 heads read it 3–8 times). The work runs in four phases, each split by shape only, never by thread count:
/// <list type="number">
/// <item>scores: (KV head, 256-key chunk) items, four query heads × four keys per step
/// (<see cref="AttentionWork.ScoreTiles"/>);</item>
/// <item>softmax: one item per query head;</item>
/// <item>value sums: (KV head, 16 of the 64 lanes) items, four query heads sharing each value row
/// (<see cref="AttentionWork.AccumulateLanes"/>, lane m collecting tokens j ≡ m mod 64);</item>
/// <item>per query head, ggml_vec_dot_f32's fold and the 16-lane reduction.</item>
/// </list>
/// Every score, probability and lane sees the same operations in the same order as in
/// <see cref="AttentionWork"/>'s single-row path, so the outputs are bit-identical to it (and to the reference).
/// </summary>
internal sealed unsafe class GroupedDecodeWork : IParallelWork
{
    private const int KeyChunk = 256;
    private const int LaneGroups = 4;
    private float[] _scores = [];  // [heads, capacity] one query's scores, then probabilities, per query head
    private float[] _lanes = [];   // [heads, 64, valueDim] partial value sums
    private int[] _visible = [];   // [kvHeads] cached tokens at or before the query's position
    private float[][] _widened = []; // [worker][capacity · max(keyDim, valueDim)] f16 rows widened to f32
    private int _capacity, _phase, _chunks;
    private KvCache _cache = null!;
    private int _layer, _heads, _group, _kvHeads, _keyDim, _valueDim;
    private float _scale;
    private float* _q, _out, _scoresBase, _lanesBase;

    /// <summary>
    /// True when this path serves the call: one query row, no statistics, at least two query heads per KV head,
    /// dimensions that are multiples of 64, AVX-512, and keys and values stored in f32 or f16 (f16 rows are widened
    /// into a per-worker scratch by the item that reads them, each row once per token).
    /// </summary>
    public static bool Applies(KvCache cache, int qCols, int rows, bool statistics, int layer)
    {
        if (rows != 1 || statistics || !Simd.UseAvx512 || cache.KeyDim % 64 != 0 || cache.ValueDim % 64 != 0) return false;
        int heads = qCols / cache.KeyDim;
        if (heads < 2 * cache.KvHeadCount) return false;
        for (int g = 0; g < cache.KvHeadCount; g++)
        {
            KvHead head = cache.Head(layer, g);
            if (!IsDense(head.Keys) || !IsDense(head.Values)) return false;
        }
        return true;
    }

    /// <summary>Attends query row <paramref name="q"/> ([heads · keyDim]) at <paramref name="position"/> into <paramref name="output"/> ([heads · valueDim]).</summary>
    public void Run(WorkerPool pool, float* q, int qCols, KvCache cache, int layer, int position, float* output)
    {
        _cache = cache;
        _layer = layer;
        _keyDim = cache.KeyDim;
        _valueDim = cache.ValueDim;
        _kvHeads = cache.KvHeadCount;
        _heads = qCols / _keyDim;
        _group = _heads / _kvHeads;
        _scale = 1.0f / MathF.Sqrt(_keyDim);
        _q = q;
        _out = output;
        if (_visible.Length < _kvHeads) _visible = new int[_kvHeads];
        int longest = 0;
        for (int g = 0; g < _kvHeads; g++)
        {
            _visible[g] = AttentionWork.Visible(cache.Head(layer, g).Positions, position);
            longest = Math.Max(longest, _visible[g]);
        }
        if (_capacity < longest || _scores.Length < _heads * _capacity)
        {
            _capacity = (int)Math.Max(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)longest));
            _scores = GC.AllocateArray<float>(_heads * _capacity, pinned: true);
        }
        if (_lanes.Length < _heads * 64 * _valueDim) _lanes = GC.AllocateArray<float>(_heads * 64 * _valueDim, pinned: true);
        if (_widened.Length < pool.Threads) Array.Resize(ref _widened, pool.Threads);
        bool widens = false;
        for (int g = 0; g < _kvHeads; g++) widens |= cache.Head(layer, g).Keys is DenseKvRows<Half> || cache.Head(layer, g).Values is DenseKvRows<Half>;
        if (widens)
        {
            int width = _capacity * Math.Max(_keyDim, _valueDim);
            for (int w = 0; w < pool.Threads; w++)
                if (_widened[w] is null || _widened[w].Length < width) _widened[w] = GC.AllocateArray<float>(width, pinned: true);
        }
        _chunks = Math.Max(1, (longest + KeyChunk - 1) / KeyChunk);
        fixed (float* scores = _scores, lanes = _lanes)
        {
            // pinned arrays: the addresses stay valid for the phases below
            _scoresBase = scores;
            _lanesBase = lanes;
        }
        _phase = 0;
        pool.Run(this, _kvHeads * _chunks);
        _phase = 1;
        pool.Run(this, _heads);
        _phase = 2;
        pool.Run(this, _kvHeads * LaneGroups);
        _phase = 3;
        pool.Run(this, _heads);
        _cache = null!;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        switch (_phase)
        {
            case 0: Score(item / _chunks, item % _chunks, worker); break;
            case 1:
                int n = _visible[item / _group];
                if (n > 0) AttentionWork.Softmax(_scoresBase + (long)item * _capacity, n);
                break;
            case 2: Sum(item / LaneGroups, item % LaneGroups, worker); break;
            default: Finish(item); break;
        }
    }

    private void Score(int g, int chunk, int worker)
    {
        int start = chunk * KeyChunk, n = _visible[g];
        if (start >= n) return;
        int count = Math.Min(KeyChunk, n - start);
        KvRows keys = _cache.Head(_layer, g).Keys;
        if (keys is DenseKvRows<float> f32)
        {
            fixed (float* data = f32.Data) ScoreGroup(g, (byte*)(data + (long)start * _keyDim), start, count);
            return;
        }
        // f16: the chunk's rows widened once (exactly), then scored by the f32 kernels
        fixed (float* widened = _widened[worker])
        {
            keys.ReadRows(start, count, new Span<float>(widened, count * _keyDim));
            ScoreGroup(g, (byte*)widened, start, count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoreGroup(int g, byte* keys, int start, int count)
    {
        long keyBytes = (long)_keyDim * sizeof(float);
        for (int first = g * _group, end = first + _group; first < end; first += 4)
        {
            // past the group's end the last head is repeated (its scores are the same, written twice)
            int h0 = first, h1 = Math.Min(first + 1, end - 1), h2 = Math.Min(first + 2, end - 1), h3 = Math.Min(first + 3, end - 1);
            AttentionWork.ScoreTiles(Query(h0), Query(h1), Query(h2), Query(h3), keys, keyBytes, count, _keyDim, _scale,
                Scores(h0) + start, Scores(h1) + start, Scores(h2) + start, Scores(h3) + start);
        }
    }

    private void Sum(int g, int laneGroup, int worker)
    {
        int n = _visible[g];
        if (n == 0) return;
        KvRows values = _cache.Head(_layer, g).Values;
        if (values is DenseKvRows<float> f32)
        {
            fixed (float* data = f32.Data) SumGroup(g, (byte*)data, n, laneGroup);
            return;
        }
        // f16: widen only the rows of this item's lanes (j mod 64 in its 16), each exactly, at their own index
        fixed (float* widened = _widened[worker])
        {
            for (int first = 16 * laneGroup; first < n; first += 64)
            {
                int rows = Math.Min(16, n - first);
                values.ReadRows(first, rows, new Span<float>(widened + (long)first * _valueDim, rows * _valueDim));
            }
            SumGroup(g, (byte*)widened, n, laneGroup);
        }
    }

    private void SumGroup(int g, byte* values, int n, int laneGroup)
    {
        int from = 16 * laneGroup;
        for (int first = g * _group, end = first + _group; first < end; first += 4)
        {
            int h0 = first, h1 = Math.Min(first + 1, end - 1), h2 = Math.Min(first + 2, end - 1), h3 = Math.Min(first + 3, end - 1);
            AttentionWork.AccumulateLanes(Scores(h0), Scores(h1), Scores(h2), Scores(h3), n, n, n, n, values, _valueDim,
                Lanes(h0), Lanes(h1), Lanes(h2), Lanes(h3), from, from + 16, 64);
        }
    }

    private void Finish(int h)
    {
        float* o = _out + h * _valueDim;
        if (_visible[h / _group] == 0)
        {
            new Span<float>(o, _valueDim).Clear();
            return;
        }
        AttentionWork.FoldLanes64(Lanes(h), _valueDim);
        AttentionWork.ReduceLanes(Lanes(h), _valueDim, o);
    }

    private float* Query(int h) => _q + h * _keyDim;

    private float* Scores(int h) => _scoresBase + (long)h * _capacity;

    private float* Lanes(int h) => _lanesBase + (long)h * 64 * _valueDim;

    private static bool IsDense(KvRows rows) => rows is DenseKvRows<float> or DenseKvRows<Half>;
}
