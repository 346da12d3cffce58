using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gguf;
using ManagedKv.Gpu.Cache;
using ManagedKv.Gpu.Device;
using ManagedKv.Gpu.Kernels;
using ManagedKv.Gpu.Presses;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.Gpu;

/// <summary>
/// <see cref="IBackend"/> on ILGPU: activations, weights (in their stored quantised bytes, uploaded once) and the
/// dense KV cache (<see cref="GpuKvStore"/>) live in device memory; every operation is a kernel. Matrix products
/// follow llama.cpp's arithmetic: the activation is first converted to the weight type's dot-product type (Q8_0,
/// Q8_1 or Q8_K blocks with x86 ggml's rounding, or f16/bf16), then each warp decodes weight units in registers.
/// Attention is split-K over the ragged per-head cache. Runs on CUDA, or (tests, CI) on ILGPU's CPU accelerator.
/// <para>
/// Against the CPU backend: same greedy tokens and compression plans on the test models; logits differ by float
/// rounding only (summation order, exp/sqrt implementations, and an occasional one-code flip of an activation's
/// Q8 quantisation downstream of such a difference). Heads whose storage a plan switched to KIVI or merged pairs
/// are read back into a temporary device copy per attention call (correct, not fast).
/// </para>
/// <para>
/// Presses score on the same accelerator: every <see cref="IPressScoring"/> member is delegated to a
/// <see cref="GpuPressScoring"/> the backend owns (its kernels compile on first use).
/// </para>
/// </summary>
public sealed class GpuBackend : IBackend, IPressScoring
{
    /// <summary>
    /// Tokens per attention split (the flash-decoding work unit). A warp walks its split serially, so short splits
    /// mean short chains and many warps: 64 tokens is 2 per lane for the scores.
    /// </summary>
    private const int AttentionChunk = 64;

    /// <summary>Largest attention scratch (floats) per launch; longer batches run in several row blocks.</summary>
    private const long AttentionScratchFloats = 1L << 24;

    /// <summary>Activation rows from which a product runs as shared-memory tiles (prefill) instead of warp dot products.</summary>
    internal const int TiledMinRows = 16;

    private readonly GpuDevice _device;
    private readonly KernelSet _k;
    private readonly GpuPressScoring _scoring;
    private readonly List<IDisposable> _owned = [];
    private readonly ConditionalWeakTable<KvCache, GpuKvStore> _stores = [];
    private readonly Scratch<float> _act, _actSums, _ropeCos, _ropeSin, _attnP, _attnPartial, _attnTotals, _statSums;
    private readonly Scratch<int> _tokens, _counted;
    private readonly UploadedInts _visible; // [rows, kvHeads] the same for every layer of an uncompressed cache
    private int[] _visibleHost = [], _countedHost = [];
    private float[] _cosHost = [], _sinHost = [], _statHost = [];
    private int[] _ropePositions = [];        // positions of the angles now on the device
    private RopeParameters? _ropeFor;         // and the parameters they were computed for
    private bool _disposed;

    /// <summary>Creates a backend on the given device (CUDA by default).</summary>
    /// <exception cref="NoCudaDeviceException"><see cref="GpuDeviceKind.Cuda"/> and no CUDA device is present.</exception>
    public GpuBackend(GpuDeviceKind device = GpuDeviceKind.Cuda)
    {
        _device = GpuDevice.Open(device);
        var a = _device.Accelerator;
        _k = new KernelSet(a);
        _scoring = new GpuPressScoring(a); // the device's context has EnableAlgorithms(), which its kernels need
        _act = new(a); _actSums = new(a); _ropeCos = new(a); _ropeSin = new(a);
        _attnP = new(a); _attnPartial = new(a); _attnTotals = new(a); _statSums = new(a);
        _tokens = new(a); _visible = new(a); _counted = new(a);
    }

    /// <inheritdoc/>
    public string Name => _device.Kind == GpuDeviceKind.Cuda ? "gpu" : "gpu-cpu";

    /// <summary>The ILGPU accelerator the kernels run on (for press score kernels that share it).</summary>
    public Accelerator Accelerator => _device.Accelerator;

    /// <summary>Which device this backend runs on.</summary>
    public GpuDeviceKind DeviceKind => _device.Kind;

    /// <inheritdoc/>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores) =>
        _scoring.TryScore(press, context, kvHead, scores);

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores) =>
        _scoring.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores);

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) =>
        _scoring.TryMeanOverHeads(statistics, firstHead, count, destination);

    /// <inheritdoc/>
    public KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage)
    {
        var store = new GpuKvStore(_k, layers) { Shape = (kvHeads, keyDim, valueDim) };
        var cache = new KvCache(layers, kvHeads, keyDim, valueDim, storage, store);
        _stores.Add(cache, store);
        _owned.Add(store);
        return cache;
    }

    /// <inheritdoc/>
    public void Synchronize() => Accelerator.Synchronize();

    /// <inheritdoc/>
    public DeviceTensor Allocate(int rows, int cols)
    {
        var t = new GpuTensor(Accelerator, rows, cols);
        return t;
    }

    /// <inheritdoc/>
    public DeviceWeight PrepareWeight(TensorView view)
    {
        var w = new GpuWeight(Accelerator, view);
        _owned.Add(w);
        return w;
    }

    /// <inheritdoc/>
    public void Download(DeviceTensor source, int rows, Span<float> destination)
    {
        var s = G(source);
        CheckRows(rows, s, s);
        Accelerator.Synchronize();
        s.Rows0(rows).CopyToCPU(destination[..(rows * s.Cols)]);
    }

    /// <inheritdoc/>
    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        var w = W(table);
        var gx = G(x);
        if (tokens.Length > gx.Rows) throw new ArgumentException($"{tokens.Length} tokens do not fit in {gx.Rows} rows", nameof(tokens));
        if (table.InFeatures > gx.Cols) throw new ArgumentException($"embedding width {table.InFeatures} exceeds {gx.Cols} columns", nameof(x));
        foreach (int t in tokens)
            if ((uint)t >= (uint)table.OutFeatures) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the table of {table.OutFeatures} rows");
        if (tokens.IsEmpty) return;
        var ids = _tokens.Get(tokens.Length);
        ids.SubView(0, tokens.Length).CopyFromCPU(tokens);
        int units = table.InFeatures / KernelSet.UnitValues(table.Type);
        _k.Embed(table.Type)(tokens.Length * units, w.Bytes, w.RowBytes, units, ids, gx.View, gx.Cols);
    }

    /// <inheritdoc/>
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y)
    {
        GpuTensor gx = G(x), gy = G(y);
        CheckRows(rows, gx, gy);
        if (gy.Cols != gx.Cols || gamma.Type != GgmlType.F32 || gamma.View.ElementCount != gx.Cols)
            throw new ArgumentException($"{gamma.View.Name}: RMSNorm needs an F32 weight of {gx.Cols} values and equal widths, got {gamma.Type} {gamma.View.ShapeText} for {gx.Cols} → {gy.Cols}");
        if (rows == 0) return;
        _k.RmsNorm(_k.WarpGrid(rows), gx.View, W(gamma).Floats, gy.View, rows, gx.Cols, eps);
    }

    /// <inheritdoc/>
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y)
    {
        var gw = W(w);
        GpuTensor gx = G(x), gy = G(y);
        CheckRows(rows, gx, gy);
        int k = w.InFeatures, o = w.OutFeatures;
        if (gx.Cols < k) throw new ArgumentException($"{w.View.Name}: activations have {gx.Cols} columns, the weight needs {k}", nameof(x));
        if (gy.Cols < o) throw new ArgumentException($"{w.View.Name}: output has {gy.Cols} columns, the weight produces {o}", nameof(y));
        if (rows == 0) return;
        var kernels = _k.MatMul(w.Type);
        int unitValues = kernels.UnitValues;
        var args = new MatMulArgs
        {
            W = gw.Bytes, RowBytes = gw.RowBytes, Units = k / unitValues, OutFeatures = o,
            X = gx.View, XStride = gx.Cols, Xs = gx.View, XsStride = 0, Rows = rows,
            Y = gy.View, YStride = gy.Cols,
        };
        EncodeActivations(w, gx, rows, ref args);
        if (rows >= TiledMinRows && k % MatMulKernels.TileK == 0)
        {
            args.TileSide = _k.TileSide;
            int tile = 4 * _k.TileSide;
            kernels.Tiled(new KernelConfig(new Index2D((o + tile - 1) / tile, (rows + tile - 1) / tile), new Index2D(_k.TileSide * _k.TileSide, 1)), args);
            return;
        }
        var grid = new Index2D((o + _k.WarpsPerGroup - 1) / _k.WarpsPerGroup, (rows + Kernels.Formats.DotSink.Tile - 1) / Kernels.Formats.DotSink.Tile);
        kernels.Warp(new KernelConfig(grid, new Index2D(_k.WarpsPerGroup * _k.WarpSize, 1)), args);
    }

    /// <summary>Converts the activation rows to the weight's dot-product type (QuantDot.VecDotType), as llama.cpp does.</summary>
    private void EncodeActivations(DeviceWeight w, GpuTensor x, int rows, ref MatMulArgs args)
    {
        int k = w.InFeatures;
        var dotType = QuantDot.VecDotType(w.Type);
        int block = dotType switch { GgmlType.Q8_K => 256, GgmlType.Q8_0 or GgmlType.Q8_1 => 32, _ => 1 };
        if (k % block != 0) throw new ArgumentException($"{w.View.Name}: row length {k} is not a multiple of {block}");
        if (dotType == GgmlType.F32) return; // f32 weights take the activations as they are
        var xq = _act.Get((long)rows * k);
        args.X = xq;
        args.XStride = k;
        switch (dotType)
        {
            case GgmlType.F16 or GgmlType.BF16:
                _k.Round(rows * k, x.View, x.Cols, k, xq, dotType == GgmlType.BF16 ? 1 : 0);
                break;
            case GgmlType.Q8_0 or GgmlType.Q8_1:
                var sums = _actSums.Get((long)rows * (k / 32));
                _k.Q8(_k.WarpGrid(rows * (k / 32)), x.View, x.Cols, k / 32, rows * (k / 32), xq, sums);
                args.Xs = sums;
                args.XsStride = k / 32;
                break;
            case GgmlType.Q8_K:
                _k.Q8K(_k.WarpGrid(rows * (k / 256)), x.View, x.Cols, k / 256, rows * (k / 256), xq);
                break;
        }
    }

    /// <inheritdoc/>
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows)
    {
        var gy = G(y);
        CheckRows(rows, gy, gy);
        int n = checked((int)bias.View.ElementCount);
        if (n != gy.Cols) throw new ArgumentException($"{bias.View.Name}: {n} values for {gy.Cols} columns", nameof(bias));
        if (rows > 0) _k.AddBias(rows * n, gy.View, W(bias).Floats, n);
    }

    /// <inheritdoc/>
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var gx = G(x);
        CheckRows(positions.Length, gx, gx);
        if (heads * headDim > gx.Cols || rope.Dimensions > headDim || rope.Dimensions % 2 != 0)
            throw new ArgumentException($"RoPE of {heads}×{headDim} (rotating {rope.Dimensions}) does not fit {gx.Cols} columns");
        if (positions.IsEmpty) return;
        int half = rope.Dimensions / 2;
        var (cos, sin) = RopeAngles(positions, rope);
        _k.Rope(positions.Length * heads * half, gx.View, gx.Cols, heads, headDim, half, rope.Style == Model.Config.RopeStyle.Neox ? 1 : 0, cos, sin);
    }

    /// <summary>
    /// The cos/sin table [positions, dims/2] on the device, computed on the host exactly as the reference does
    /// (ggml's step-by-step theta) and uploaded once per forward call: Q and K of every layer reuse it.
    /// </summary>
    private (ArrayView<float> Cos, ArrayView<float> Sin) RopeAngles(ReadOnlySpan<int> positions, RopeParameters rope)
    {
        int half = rope.Dimensions / 2, n = positions.Length * half;
        var cos = _ropeCos.Get(n);
        var sin = _ropeSin.Get(n);
        if (ReferenceEquals(rope, _ropeFor) && positions.SequenceEqual(_ropePositions)) return (cos, sin);
        if (_cosHost.Length < n)
        {
            _cosHost = new float[n];
            _sinHost = new float[n];
        }
        for (int r = 0; r < positions.Length; r++)
            rope.Angles(positions[r], _cosHost.AsSpan(r * half, half), _sinHost.AsSpan(r * half, half));
        cos.SubView(0, n).CopyFromCPU(_cosHost.AsSpan(0, n));
        sin.SubView(0, n).CopyFromCPU(_sinHost.AsSpan(0, n));
        _ropeFor = rope;
        _ropePositions = positions.ToArray();
        return (cos, sin);
    }

    /// <inheritdoc/>
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions)
    {
        GpuTensor gk = G(k), gv = G(v);
        CheckRows(positions.Length, gk, gv);
        int kd = cache.KeyDim, vd = cache.ValueDim, heads = cache.KvHeadCount;
        if (gk.Cols < heads * kd || gv.Cols < heads * vd)
            throw new ArgumentException($"K/V rows of {gk.Cols}/{gv.Cols} columns are narrower than {heads} heads of {kd}/{vd}");
        if (positions.IsEmpty) return;
        var device = DeviceLayer(cache, layer);
        if (device is not null)
        {
            // Rows are written on the device; the cache's Append (empty rows) commits them and records positions.
            device.AppendFromDevice(gk.View, gk.Cols, gv.View, gv.Cols, positions.Length);
            for (int r = 0; r < positions.Length; r++)
                for (int h = 0; h < heads; h++) cache.Append(layer, h, positions[r], [], []);
            return;
        }
        // A cache in host memory, or a layer some of whose heads a plan moved to other storage: append host rows.
        var hk = new float[positions.Length * gk.Cols];
        var hv = new float[positions.Length * gv.Cols];
        Download(k, positions.Length, hk);
        Download(v, positions.Length, hv);
        for (int r = 0; r < positions.Length; r++)
            for (int h = 0; h < heads; h++)
                cache.Append(layer, h, positions[r], hk.AsSpan(r * gk.Cols + h * kd, kd), hv.AsSpan(r * gv.Cols + h * vd, vd));
    }

    /// <summary>The device layer of a cache this backend created, when every head of the layer still uses its slots.</summary>
    private GpuKvLayer? DeviceLayer(KvCache cache, int layer)
    {
        if (!_stores.TryGetValue(cache, out var store) || store.Layer(layer) is not { } l) return null;
        for (int h = 0; h < cache.KvHeadCount; h++)
        {
            var head = cache.Head(layer, h);
            if (!ReferenceEquals(head.Keys, l.Keys[h]) || !ReferenceEquals(head.Values, l.Values[h])) return null;
        }
        return l;
    }

    /// <inheritdoc/>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null)
    {
        GpuTensor gq = G(q), go = G(output);
        CheckRows(positions.Length, gq, go);
        int kd = cache.KeyDim, vd = cache.ValueDim, kvHeads = cache.KvHeadCount;
        int heads = gq.Cols / kd;
        if (heads * kd != gq.Cols || heads % kvHeads != 0 || go.Cols < heads * vd)
            throw new ArgumentException($"attention: {gq.Cols} query columns, {go.Cols} output columns do not match {kvHeads} KV heads of {kd}/{vd}");
        int group = heads / kvHeads;
        if (statistics is not null)
            for (int h = 0; h < heads; h++) statistics.Accumulator(h, cache.Head(layer, h / group).Count);
        if (positions.IsEmpty) return;

        var layerRows = DeviceLayer(cache, layer);
        GpuKvStore? temporary = null;
        try
        {
            layerRows ??= TemporaryLayer(cache, layer, out temporary);
            int maxVisible = 0;
            for (int h = 0; h < kvHeads; h++) maxVisible = Math.Max(maxVisible, cache.Head(layer, h).Count);
            int splits = Math.Max(1, (maxVisible + AttentionChunk - 1) / AttentionChunk);
            int capacity = layerRows.Capacity;
            long perRow = (long)heads * (capacity + (long)splits * (vd + 2) + 2);
            int block = (int)Math.Clamp(AttentionScratchFloats / perRow, 1, positions.Length);
            for (int r0 = 0; r0 < positions.Length; r0 += block)
            {
                int n = Math.Min(block, positions.Length - r0);
                var args = new AttentionArgs
                {
                    Q = gq.View.SubView((long)r0 * gq.Cols), QStride = gq.Cols,
                    Rows = n, Heads = heads, Group = group, KvHeads = kvHeads, KeyDim = kd, ValueDim = vd,
                    Capacity = capacity, Splits = splits, Chunk = AttentionChunk, Scale = 1.0f / MathF.Sqrt(kd),
                    Visible = UploadVisible(cache, layer, positions.Slice(r0, n)),
                    P = _attnP.Get((long)n * heads * capacity),
                    Partial = _attnPartial.Get((long)n * heads * splits * (vd + 2)),
                    Totals = _attnTotals.Get((long)n * heads * 2),
                };
                layerRows.LaunchPartial(args);
                _k.AttentionCombine(n * heads * vd, args, go.View.SubView((long)r0 * go.Cols), go.Cols);
                if (statistics is not null) AddStatistics(statistics, cache, layer, args, positions.Slice(r0, n));
            }
        }
        finally
        {
            if (temporary is not null)
            {
                Accelerator.Synchronize();
                temporary.Dispose();
            }
        }
    }

    /// <summary>[rows, kvHeads] visible prefix lengths: tokens of each head at positions ≤ the row's position.</summary>
    private ArrayView<int> UploadVisible(KvCache cache, int layer, ReadOnlySpan<int> positions)
    {
        int kvHeads = cache.KvHeadCount, n = positions.Length * kvHeads;
        if (_visibleHost.Length < n) _visibleHost = new int[n];
        for (int h = 0; h < kvHeads; h++)
        {
            var held = cache.Head(layer, h).Positions;
            for (int r = 0; r < positions.Length; r++)
            {
                int i = held.BinarySearch(positions[r]);
                _visibleHost[r * kvHeads + h] = i >= 0 ? i + 1 : ~i;
            }
        }
        return _visible.Upload(_visibleHost.AsSpan(0, n));
    }

    /// <summary>Adds the counted rows' probabilities (summed on the device in row order) to the host accumulators.</summary>
    private void AddStatistics(AttentionStatistics statistics, KvCache cache, int layer, in AttentionArgs args, ReadOnlySpan<int> positions)
    {
        if (_countedHost.Length < positions.Length) _countedHost = new int[positions.Length];
        bool any = false;
        for (int r = 0; r < positions.Length; r++)
        {
            _countedHost[r] = statistics.Counts(positions[r]) ? 1 : 0;
            any |= _countedHost[r] != 0;
        }
        if (!any) return;
        var counted = _counted.Get(positions.Length);
        counted.SubView(0, positions.Length).CopyFromCPU(_countedHost.AsSpan(0, positions.Length));
        int n = args.Heads * args.Capacity;
        var sums = _statSums.Get(n);
        _k.AttentionStatistics(n, args, counted, sums);
        if (_statHost.Length < n) _statHost = new float[n];
        Accelerator.Synchronize();
        sums.SubView(0, n).CopyToCPU(_statHost.AsSpan(0, n));
        for (int h = 0; h < args.Heads; h++)
        {
            int tokens = cache.Head(layer, h / args.Group).Count;
            var acc = statistics.Accumulator(h, tokens);
            var add = _statHost.AsSpan(h * args.Capacity, tokens);
            for (int j = 0; j < tokens; j++) acc[j] += add[j];
        }
    }

    /// <summary>
    /// A device copy of a layer whose rows are not all in this backend's slots (a host cache, or heads a plan moved to
    /// KIVI or merged storage): device heads are copied on the device, other heads are decoded on the host and uploaded.
    /// </summary>
    private GpuKvLayer TemporaryLayer(KvCache cache, int layer, out GpuKvStore temporary)
    {
        temporary = new GpuKvStore(_k, 1) { Shape = (cache.KvHeadCount, cache.KeyDim, cache.ValueDim) };
        var type = cache.Storage == KvStorageType.F16 ? KvStorageType.F16 : KvStorageType.F32;
        for (int h = 0; h < cache.KvHeadCount; h++)
        {
            var head = cache.Head(layer, h);
            FillTemporary((GpuKvRows)temporary.Create(0, h, true, type, cache.KeyDim), head.Keys);
            FillTemporary((GpuKvRows)temporary.Create(0, h, false, type, cache.ValueDim), head.Values);
        }
        return temporary.Layer(0)!;
    }

    private static void FillTemporary(GpuKvRows target, KvRows source)
    {
        int count = source.Count, width = source.Width;
        if (source is GpuKvRows device && device.StorageType == target.StorageType)
        {
            target.Layer.CopyHead(device, count);
            target.Stage(count);
            for (int j = 0; j < count; j++) target.Append([]);
            return;
        }
        var rows = new float[(long)count * width];
        for (int j = 0; j < count; j++) source.Read(j, rows.AsSpan(j * width, width));
        target.Layer.Upload(target, 0, rows, count);
        target.Stage(count);
        for (int j = 0; j < count; j++) target.Append([]);
    }

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        GpuTensor gg = G(gate), gu = G(up);
        CheckRows(rows, gg, gu);
        if (gg.Cols != gu.Cols) throw new ArgumentException($"gate has {gg.Cols} columns, up has {gu.Cols}");
        if (rows > 0) _k.SwiGlu(rows * gg.Cols, gg.View, gu.View);
    }

    /// <inheritdoc/>
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count)
    {
        GpuTensor s = G(source), d = G(destination);
        if (s.Cols != d.Cols) throw new ArgumentException($"copying rows of {s.Cols} columns into rows of {d.Cols}");
        if (sourceRow < 0 || destinationRow < 0 || count < 0 || sourceRow + count > s.Rows || destinationRow + count > d.Rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows [{sourceRow}, {sourceRow + count}) → [{destinationRow}, …) outside the tensors");
        if (count == 0 || (ReferenceEquals(s, d) && sourceRow == destinationRow)) return;
        long n = (long)count * s.Cols;
        s.View.SubView((long)sourceRow * s.Cols, n).CopyTo(d.View.SubView((long)destinationRow * d.Cols, n));
    }

    /// <inheritdoc/>
    public void Add(DeviceTensor x, DeviceTensor y, int rows)
    {
        GpuTensor gx = G(x), gy = G(y);
        CheckRows(rows, gx, gy);
        if (gx.Cols != gy.Cols) throw new ArgumentException($"adding rows of {gy.Cols} columns to rows of {gx.Cols}");
        if (rows > 0) _k.Add(rows * gx.Cols, gx.View, gy.View);
    }

    /// <summary>Frees every device buffer (weights, caches, scratch) and the accelerator.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Accelerator.Synchronize();
        foreach (var o in _owned) o.Dispose();
        foreach (var s in new IDisposable[] { _scoring, _act, _actSums, _ropeCos, _ropeSin, _attnP, _attnPartial, _attnTotals, _statSums, _tokens, _visible, _counted, _k })
            s.Dispose();
        _device.Dispose();
    }

    private static void CheckRows(int rows, GpuTensor a, GpuTensor b)
    {
        if (rows < 0 || rows > a.Rows || rows > b.Rows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"row count must be within [0, {Math.Min(a.Rows, b.Rows)}]");
    }

    private static GpuTensor G(DeviceTensor t) => t as GpuTensor ?? throw new ArgumentException("tensor belongs to another backend");

    private static GpuWeight W(DeviceWeight w) => w as GpuWeight ?? throw new ArgumentException($"{w.View.Name}: weight was prepared by another backend");
}
