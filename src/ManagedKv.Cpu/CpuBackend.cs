using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ManagedKv.Cpu.Activations;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Ops;
using ManagedKv.Cpu.Presses;
using ManagedKv.Cpu.Threading;
using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu;

/// <summary>
/// The fast CPU backend: quantised matrix products on the stored weight types (activations quantised once per
/// row as llama.cpp does, integer dot products with AVX2/AVX-VNNI, f32 accumulation in ggml's AVX2 order),
/// cache-blocked prefill, SIMD attention over the ragged per-head cache, and a small worker pool. Work is split
/// into fixed blocks that depend only on tensor shapes and every output element is computed by the same code
/// on whichever thread, so results are bit-identical for any thread count and from run to run. A warm backend
/// allocates nothing per decoded token. Machines without AVX2/FMA fall back to the scalar oracle's dot products.
/// Presses find vectorised kernels for their per-token work here (<see cref="IPressScoring"/>, folder Presses/),
/// bit-identical to their scalar code; the portable backend leaves presses on their scalar code.
/// </summary>
public sealed unsafe class CpuBackend : IBackend, IPressScoring
{
    private readonly WorkerPool _pool;
    private readonly bool _portable;
    private readonly ActivationBuffer _activations = new();
    private readonly QuantizeWork _quantize = new();
    private readonly MatMulWork _matmul = new();
    private readonly RowsWork _rows;
    private readonly RopeWork _rope = new();
    private readonly AttentionWork _attention;
    private readonly GroupedDecodeWork _groupedDecode = new();
    private readonly PressKernels _presses = new();
    private readonly MatMulKernel?[] _kernels = new MatMulKernel?[64]; // by ggml type id, for weights prepared elsewhere
    private bool _disposed;

    /// <summary>Creates a backend running on <paramref name="threads"/> threads (the caller plus threads − 1 workers).</summary>
    public CpuBackend(int threads) : this(threads, portable: false) { }

    /// <summary>As <see cref="CpuBackend(int)"/>; <paramref name="portable"/> forces the scalar fallback kernels.</summary>
    internal CpuBackend(int threads, bool portable)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _portable = portable || !Simd.Supported;
        _pool = new WorkerPool(threads);
        _rows = new RowsWork();
        _attention = new AttentionWork(threads);
    }

    /// <inheritdoc/>
    public string Name => _portable ? "cpu-portable" : "cpu";

    /// <summary>Threads that execute work, the caller included.</summary>
    public int Threads => _pool.Threads;

    /// <summary>Bytes allocated so far by the worker threads (diagnostics for allocation tests).</summary>
    internal long WorkerAllocatedBytes => _pool.WorkerAllocatedBytes;

    /// <inheritdoc/>
    public DeviceTensor Allocate(int rows, int cols) => new HostTensor(rows, cols);

    /// <inheritdoc/>
    public DeviceWeight PrepareWeight(TensorView view) =>
        new CpuWeight(view, KernelRegistry.Supports(view.Type) ? KernelRegistry.For(view.Type, _portable) : null);

    /// <inheritdoc/>
    public void Download(DeviceTensor source, int rows, Span<float> destination) => H(source).Rows0(rows).CopyTo(destination);

    /// <inheritdoc/>
    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        var hx = H(x);
        if (tokens.Length > hx.Rows) throw new ArgumentException($"{tokens.Length} tokens do not fit in {hx.Rows} rows", nameof(tokens));
        if (table.InFeatures > hx.Cols) throw new ArgumentException($"embedding width {table.InFeatures} exceeds {hx.Cols} columns", nameof(x));
        foreach (int t in tokens)
            if ((uint)t >= (uint)table.OutFeatures) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the table of {table.OutFeatures} rows");
        fixed (float* px = hx.Data) _pool.Run(_rows, _rows.SetEmbed(table.View, tokens, px, hx.Cols));
    }

    /// <inheritdoc/>
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y)
    {
        HostTensor hx = H(x), hy = H(y);
        CheckRows(rows, hx, hy);
        if (hy.Cols != hx.Cols || gamma.Type != GgmlType.F32 || gamma.View.ElementCount != hx.Cols)
            throw new ArgumentException($"{gamma.View.Name}: RMSNorm needs an F32 weight of {hx.Cols} values and equal widths, got {gamma.Type} {gamma.View.ShapeText} for {hx.Cols} → {hy.Cols}");
        fixed (float* px = hx.Data, py = hy.Data)
            _pool.Run(_rows, _rows.SetRmsNorm(px, (float*)gamma.View.Data, py, rows, hx.Cols, eps));
    }

    /// <inheritdoc/>
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y)
    {
        HostTensor hx = H(x), hy = H(y);
        CheckRows(rows, hx, hy);
        int k = w.InFeatures, o = w.OutFeatures;
        if (hx.Cols < k) throw new ArgumentException($"{w.View.Name}: activations have {hx.Cols} columns, the weight needs {k}", nameof(x));
        if (hy.Cols < o) throw new ArgumentException($"{w.View.Name}: output has {hy.Cols} columns, the weight produces {o}", nameof(y));
        var kernel = KernelOf(w);
        int blockSize = kernel.Activation == ActivationKind.Q8_K ? 256 : kernel.Activation is ActivationKind.Q8_0 or ActivationKind.Q8_1 ? 32 : 1;
        if (k % blockSize != 0) throw new ArgumentException($"{w.View.Name}: row length {k} is not a multiple of {blockSize}");
        _activations.Prepare(kernel.Activation, kernel.Bias, rows, k, _portable);
        fixed (float* px = hx.Data, py = hy.Data)
        {
            _pool.Run(_quantize, _quantize.Set(_activations, px, hx.Cols, rows));
            var args = new MatMulArgs
            {
                Weights = w.View.Data,
                RowBytes = w.View.RowBytes,
                K = k,
                OutFeatures = o,
                Act = _activations,
                Y = py,
                YStride = hy.Cols,
            };
            _pool.Run(_matmul, _matmul.Set(kernel, args, rows));
        }
    }

    /// <inheritdoc/>
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows)
    {
        var hy = H(y);
        CheckRows(rows, hy, hy);
        var b = F32(bias);
        if (b.Length > hy.Cols) throw new ArgumentException($"{bias.View.Name}: {b.Length} values for {hy.Cols} columns", nameof(bias));
        for (int r = 0; r < rows; r++)
        {
            var row = hy.Row(r)[..b.Length];
            TensorPrimitives.Add(row, b, row);
        }
    }

    /// <inheritdoc/>
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var hx = H(x);
        CheckRows(positions.Length, hx, hx);
        if (heads * headDim > hx.Cols || rope.Dimensions > headDim || rope.Dimensions % 2 != 0)
            throw new ArgumentException($"RoPE of {heads}×{headDim} (rotating {rope.Dimensions}) does not fit {hx.Cols} columns");
        fixed (float* px = hx.Data) _pool.Run(_rope, _rope.Set(px, hx.Cols, heads, headDim, positions, rope));
    }

    /// <inheritdoc/>
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions)
    {
        HostTensor hk = H(k), hv = H(v);
        CheckRows(positions.Length, hk, hv);
        int kd = cache.KeyDim, vd = cache.ValueDim;
        if (hk.Cols < cache.KvHeadCount * kd || hv.Cols < cache.KvHeadCount * vd)
            throw new ArgumentException($"K/V rows of {hk.Cols}/{hv.Cols} columns are narrower than {cache.KvHeadCount} heads of {kd}/{vd}");
        for (int r = 0; r < positions.Length; r++)
            for (int h = 0; h < cache.KvHeadCount; h++)
                cache.Append(layer, h, positions[r], hk.Row(r).Slice(h * kd, kd), hv.Row(r).Slice(h * vd, vd));
    }

    /// <inheritdoc/>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null)
    {
        HostTensor hq = H(q), ho = H(output);
        CheckRows(positions.Length, hq, ho);
        int heads = hq.Cols / cache.KeyDim;
        if (heads * cache.KeyDim != hq.Cols || heads % cache.KvHeadCount != 0 || ho.Cols < heads * cache.ValueDim)
            throw new ArgumentException($"attention: {hq.Cols} query columns, {ho.Cols} output columns do not match {cache.KvHeadCount} KV heads of {cache.KeyDim}/{cache.ValueDim}");
        fixed (float* pq = hq.Data, po = ho.Data)
        {
            if (GroupedDecodeWork.Applies(cache, hq.Cols, positions.Length, statistics is not null, layer))
                _groupedDecode.Run(_pool, pq, hq.Cols, cache, layer, positions[0], po);
            else
                _pool.Run(_attention, _attention.Set(pq, hq.Cols, cache, layer, positions, po, ho.Cols, statistics));
        }
    }

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        HostTensor hg = H(gate), hu = H(up);
        CheckRows(rows, hg, hu);
        if (hg.Cols != hu.Cols) throw new ArgumentException($"gate has {hg.Cols} columns, up has {hu.Cols}");
        fixed (float* pg = hg.Data, pu = hu.Data) _pool.Run(_rows, _rows.SetSwiGlu(pg, pu, rows, hg.Cols));
    }

    /// <inheritdoc/>
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count)
    {
        HostTensor s = H(source), d = H(destination);
        if (s.Cols != d.Cols) throw new ArgumentException($"copying rows of {s.Cols} columns into rows of {d.Cols}");
        s.Data.AsSpan(sourceRow * s.Cols, count * s.Cols).CopyTo(d.Data.AsSpan(destinationRow * d.Cols));
    }

    /// <inheritdoc/>
    public void Add(DeviceTensor x, DeviceTensor y, int rows)
    {
        HostTensor hx = H(x), hy = H(y);
        CheckRows(rows, hx, hy);
        if (hx.Cols != hy.Cols) throw new ArgumentException($"adding rows of {hy.Cols} columns to rows of {hx.Cols}");
        var xs = hx.Rows0(rows);
        TensorPrimitives.Add(xs, hy.Rows0(rows), xs);
    }

    /// <inheritdoc/>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores) =>
        !_portable && _presses.TryScore(press, context, kvHead, scores);

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) =>
        !_portable && _presses.TryMeanOverHeads(statistics, firstHead, count, destination);

    /// <inheritdoc/>
    public bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output) =>
        !_portable && _presses.TryAveragePool(input, kernel, output);

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores) =>
        !_portable && _presses.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores);

    /// <summary>Stops the worker threads and frees the scratch memory.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pool.Dispose();
        _activations.Dispose();
    }

    private MatMulKernel KernelOf(DeviceWeight w)
    {
        if (w is CpuWeight cw)
            return cw.Kernel ?? throw new NotSupportedException($"{w.View.Name}: the CPU backend has no matrix multiplication for ggml type {w.Type}");
        int id = (int)w.Type;
        if ((uint)id < (uint)_kernels.Length)
            return _kernels[id] ??= KernelRegistry.For(w.Type, _portable);
        return KernelRegistry.For(w.Type, _portable);
    }

    private static void CheckRows(int rows, HostTensor a, HostTensor b)
    {
        if (rows < 0 || rows > a.Rows || rows > b.Rows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"row count must be within [0, {Math.Min(a.Rows, b.Rows)}]");
    }

    private static HostTensor H(DeviceTensor t) => t as HostTensor ?? throw new ArgumentException("tensor belongs to another backend");

    private static ReadOnlySpan<float> F32(DeviceWeight w) =>
        w.Type == GgmlType.F32 ? MemoryMarshal.Cast<byte, float>(w.View.Bytes)
            : throw new NotSupportedException($"{w.View.Name}: norm and bias weights must be F32, found {w.Type}");
}
