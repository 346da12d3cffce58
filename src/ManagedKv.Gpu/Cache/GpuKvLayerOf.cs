using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gpu.Kernels;
using ManagedKv.Model.Cache;

namespace ManagedKv.Gpu.Cache;

/// <summary>A <see cref="GpuKvLayer"/> whose elements are <typeparamref name="T"/> read through <typeparamref name="TStore"/>.</summary>
internal sealed class GpuKvLayerOf<T, TStore> : GpuKvLayer where T : unmanaged where TStore : struct, IKvStore
{
    private readonly Func<ArrayView<T>, TStore> _wrap;
    private readonly KvStorageType _type;
    private MemoryBuffer1D<T, Stride1D.Dense> _keys;   // [kvHeads, Capacity, keyDim]
    private MemoryBuffer1D<T, Stride1D.Dense> _values; // [kvHeads, Capacity, valueDim]
    private readonly int[] _starts;                    // [kvHeads] scratch for appends

    public GpuKvLayerOf(KernelSet kernels, KvStorageType type, int kvHeads, int keyDim, int valueDim, Func<ArrayView<T>, TStore> wrap)
        : base(kernels, kvHeads, keyDim, valueDim)
    {
        _type = type;
        _wrap = wrap;
        _starts = new int[kvHeads];
        Capacity = 16;
        _keys = Kernels.Accelerator.Allocate1D<T>((long)kvHeads * Capacity * keyDim);
        _values = Kernels.Accelerator.Allocate1D<T>((long)kvHeads * Capacity * valueDim);
    }

    public override KvStorageType StorageType => _type;

    public override unsafe int ElementBytes => sizeof(T);

    private TStore Store(bool keys) => _wrap(keys ? _keys.View : _values.View);

    internal override void EnsureCapacity(int rows)
    {
        if (rows <= Capacity) return;
        int capacity = Math.Max(rows, Capacity * 2);
        var counts = Kernels.Ints(KvHeads);
        for (int h = 0; h < KvHeads; h++) _starts[h] = Keys[h]?.Count ?? 0;
        counts.SubView(0, KvHeads).CopyFromCPU(_starts);
        _keys = Regrow(_keys, KeyDim, capacity, counts);
        for (int h = 0; h < KvHeads; h++) _starts[h] = Values[h]?.Count ?? 0;
        counts.SubView(0, KvHeads).CopyFromCPU(_starts);
        _values = Regrow(_values, ValueDim, capacity, counts);
        Capacity = capacity;
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Regrow(MemoryBuffer1D<T, Stride1D.Dense> old, int width, int capacity, ArrayView<int> counts)
    {
        var grown = Kernels.Accelerator.Allocate1D<T>((long)KvHeads * capacity * width);
        Kernels.Regrow<TStore>()((int)((long)KvHeads * Capacity * width), _wrap(old.View), Capacity, width, counts, _wrap(grown.View), capacity);
        Kernels.Accelerator.Synchronize();
        old.Dispose();
        return grown;
    }

    internal override void AppendFromDevice(ArrayView<float> k, long kStride, ArrayView<float> v, long vStride, int rows)
    {
        int max = 0;
        for (int h = 0; h < KvHeads; h++) max = Math.Max(max, Math.Max(Keys[h].Count, Values[h].Count));
        EnsureCapacity(max + rows);
        for (int h = 0; h < KvHeads; h++) _starts[h] = Keys[h].Count;
        var starts = Kernels.AppendStarts(_starts, values: false);
        Kernels.Append<TStore>()(rows * KvHeads * KeyDim, k, kStride, KvHeads, KeyDim, starts, Store(true), Capacity);
        for (int h = 0; h < KvHeads; h++) _starts[h] = Values[h].Count;
        var vStarts = Kernels.AppendStarts(_starts, values: true);
        Kernels.Append<TStore>()(rows * KvHeads * ValueDim, v, vStride, KvHeads, ValueDim, vStarts, Store(false), Capacity);
        for (int h = 0; h < KvHeads; h++)
        {
            Keys[h].Stage(rows);
            Values[h].Stage(rows);
        }
    }

    internal override void Upload(GpuKvRows rows, int first, ReadOnlySpan<float> data, int count)
    {
        EnsureCapacity(first + count);
        int n = count * rows.Width;
        var staging = Kernels.Floats(n);
        staging.SubView(0, n).CopyFromCPU(data[..n]);
        Kernels.ScatterFromF32<TStore>()(n, new F32Store(staging), rows.Head, first, Capacity, rows.Width, Store(rows.IsKeys));
    }

    internal override void Download(GpuKvRows rows, int index, Span<float> destination)
    {
        var staging = Kernels.Floats(rows.Width);
        Kernels.ReadRow<TStore>()(rows.Width, Store(rows.IsKeys), ((long)rows.Head * Capacity + index) * rows.Width, staging);
        staging.SubView(0, rows.Width).CopyToCPU(destination[..rows.Width]);
    }

    internal override void Compact(GpuKvRows rows, ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) return;
        int n = indices.Length * rows.Width;
        var idx = Kernels.Ints(indices.Length);
        idx.SubView(0, indices.Length).CopyFromCPU(indices);
        using var scratch = Kernels.Accelerator.Allocate1D<T>(n);
        var store = Store(rows.IsKeys);
        Kernels.Gather<TStore>()(n, store, rows.Head, Capacity, rows.Width, idx, _wrap(scratch.View));
        Kernels.Scatter<TStore>()(n, _wrap(scratch.View), rows.Head, 0, Capacity, rows.Width, store);
        Kernels.Accelerator.Synchronize();
    }

    internal override void LaunchPartial(in AttentionArgs args) =>
        Kernels.AttentionPartial<TStore>()(Kernels.WarpGrid(args.Rows * args.Heads * args.Splits), args, Store(true), Store(false));

    internal override void CopyHead(GpuKvRows source, int count)
    {
        if (count == 0) return;
        var from = (GpuKvLayerOf<T, TStore>)source.Layer;
        EnsureCapacity(count);
        int width = source.Width;
        var view = (source.IsKeys ? from._keys : from._values).View.SubView((long)source.Head * from.Capacity * width, (long)count * width);
        Kernels.Scatter<TStore>()(count * width, _wrap(view), source.Head, 0, Capacity, width, Store(source.IsKeys));
    }

    public override void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
