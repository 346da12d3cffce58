using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gpu.Kernels;
using ManagedKv.Model.Cache;

namespace ManagedKv.Gpu.Cache;

/// <summary>
/// The dense keys and values of one layer in device memory: two buffers [kvHeads, Capacity, width] so attention
/// reads every head of the layer in one launch, with a ragged count per head (<see cref="GpuKvRows"/>). Capacity
/// doubles for all heads together when one head needs more.
/// </summary>
public abstract class GpuKvLayer : IDisposable
{
    private protected GpuKvLayer(KernelSet kernels, int kvHeads, int keyDim, int valueDim)
    {
        Kernels = kernels;
        KvHeads = kvHeads;
        KeyDim = keyDim;
        ValueDim = valueDim;
        Keys = new GpuKvRows[kvHeads];
        Values = new GpuKvRows[kvHeads];
    }

    internal KernelSet Kernels { get; }

    /// <summary>KV heads.</summary>
    public int KvHeads { get; }

    /// <summary>Key width.</summary>
    public int KeyDim { get; }

    /// <summary>Value width.</summary>
    public int ValueDim { get; }

    /// <summary>Rows each head's slot can hold.</summary>
    public int Capacity { get; protected set; }

    /// <summary>Storage type of the elements.</summary>
    public abstract KvStorageType StorageType { get; }

    /// <summary>Bytes per element.</summary>
    public abstract int ElementBytes { get; }

    /// <summary>The current key rows of each head (the ones this layer's slots belong to), [kvHeads].</summary>
    public GpuKvRows[] Keys { get; }

    /// <summary>The current value rows of each head, [kvHeads].</summary>
    public GpuKvRows[] Values { get; }

    /// <summary>Fresh empty rows for a head's slot (a new or cleared head).</summary>
    internal GpuKvRows CreateRows(int head, bool keys)
    {
        var rows = new GpuKvRows(this, head, keys, keys ? KeyDim : ValueDim);
        (keys ? Keys : Values)[head] = rows;
        return rows;
    }

    /// <summary>Grows every slot to hold at least <paramref name="rows"/> rows.</summary>
    internal abstract void EnsureCapacity(int rows);

    /// <summary>
    /// Writes <paramref name="rows"/> rows of k ([rows, kvHeads·keyDim]) and v after each head's held rows and
    /// stages them (the cache's Append commits them).
    /// </summary>
    internal abstract void AppendFromDevice(ArrayView<float> k, long kStride, ArrayView<float> v, long vStride, int rows);

    /// <summary>Uploads <paramref name="count"/> host rows into the slot of <paramref name="rows"/> from row <paramref name="first"/>.</summary>
    internal abstract void Upload(GpuKvRows rows, int first, ReadOnlySpan<float> data, int count);

    /// <summary>Downloads row <paramref name="index"/>.</summary>
    internal abstract void Download(GpuKvRows rows, int index, Span<float> destination);

    /// <summary>Keeps the rows at the given strictly increasing indices, in order, at the start of the slot.</summary>
    internal abstract void Compact(GpuKvRows rows, ReadOnlySpan<int> indices);

    /// <summary>Runs the attention partial kernel over this layer's rows.</summary>
    internal abstract void LaunchPartial(in AttentionArgs args);

    /// <summary>Copies the first <paramref name="count"/> rows of <paramref name="source"/>'s slot into the same head of this layer.</summary>
    internal abstract void CopyHead(GpuKvRows source, int count);

    /// <summary>Device bytes allocated.</summary>
    public long AllocatedBytes => (long)Capacity * KvHeads * (KeyDim + ValueDim) * ElementBytes;

    /// <summary>Frees the device buffers.</summary>
    public abstract void Dispose();
}
