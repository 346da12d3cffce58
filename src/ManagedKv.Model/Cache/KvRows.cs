namespace ManagedKv.Model.Cache;

/// <summary>
/// A growable list of equal-length vectors (the keys or the values of one KV head) in some storage
/// format. Storage formats are subclasses so that quantised formats can join without touching callers.
/// Removing rows compacts in place and releases memory once the list is much smaller than its buffer,
/// so an evicted token's bytes are really given back.
/// </summary>
public abstract class KvRows
{
    /// <summary>Creates an empty list of vectors of <paramref name="width"/> elements.</summary>
    protected KvRows(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Width = width;
    }

    /// <summary>Elements per row (the head dimension).</summary>
    public int Width { get; }

    /// <summary>Rows held.</summary>
    public int Count { get; protected set; }

    /// <summary>Rows the current buffer can hold before it grows.</summary>
    public abstract int Capacity { get; }

    /// <summary>Storage format.</summary>
    public abstract KvStorageType StorageType { get; }

    /// <summary>Bytes one row takes.</summary>
    public abstract int BytesPerRow { get; }

    /// <summary>
    /// Bytes of the rows held (what the data really needs). Formats whose rows do not all cost
    /// <see cref="BytesPerRow"/> (merged layer pairs, quantised groups) override it with their own formula.
    /// </summary>
    public virtual long ByteCount => (long)Count * BytesPerRow;

    /// <summary>Bytes of the buffer allocated (held rows plus spare capacity).</summary>
    public virtual long AllocatedBytes => (long)Capacity * BytesPerRow;

    /// <summary>
    /// A stable one-line description of a representation that the kept positions alone do not describe (e.g. a
    /// hash of quantised codes and their scales), for snapshot tests and CPU/GPU parity; null for dense rows.
    /// </summary>
    public virtual string? Fingerprint => null;

    /// <summary>Appends one row.</summary>
    public abstract void Append(ReadOnlySpan<float> row);

    /// <summary>Decodes row <paramref name="index"/> to f32.</summary>
    public abstract void Read(int index, Span<float> destination);

    /// <summary>
    /// Decodes rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) to f32 into
    /// <paramref name="destination"/> ([count, Width], row-major), bit for bit what <see cref="Read"/> gives row by
    /// row. Attention kernels call it to decode a block of a storage format they cannot read in place, which formats
    /// override to decode many rows per call instead of paying the per-row dispatch and lookup of <see cref="Read"/>.
    /// </summary>
    public virtual void ReadRows(int start, int count, Span<float> destination)
    {
        for (int i = 0; i < count; i++) Read(start + i, destination.Slice(i * Width, Width));
    }

    /// <summary>
    /// Dot products of <paramref name="query"/> with rows [start, start + results.Length), written to
    /// <paramref name="results"/>. Attention kernels call this for storage formats they have no special path
    /// for, so a quantised format is read in place instead of being expanded to f32 wholesale.
    /// </summary>
    public virtual void DotRows(ReadOnlySpan<float> query, int start, Span<float> results)
    {
        Span<float> row = Width <= 1024 ? stackalloc float[Width] : new float[Width];
        for (int i = 0; i < results.Length; i++)
        {
            Read(start + i, row);
            float dot = 0;
            for (int d = 0; d < Width; d++) dot += query[d] * row[d];
            results[i] = dot;
        }
    }

    /// <summary>accumulator += Σ_i weights[i] · row[start + i] (the weighted value sum of attention).</summary>
    public virtual void AccumulateRows(ReadOnlySpan<float> weights, int start, Span<float> accumulator)
    {
        Span<float> row = Width <= 1024 ? stackalloc float[Width] : new float[Width];
        for (int i = 0; i < weights.Length; i++)
        {
            Read(start + i, row);
            float w = weights[i];
            for (int d = 0; d < Width; d++) accumulator[d] += w * row[d];
        }
    }

    /// <summary>Keeps only the rows at <paramref name="ascendingIndices"/> (strictly increasing), in that order.</summary>
    public abstract void Keep(ReadOnlySpan<int> ascendingIndices);

    /// <summary>
    /// Called by <see cref="KvHead"/> when this storage is replaced or dropped, so storage that shares bytes
    /// with another layer (a merged layer pair) can hand the accounting of the shared part to its partner.
    /// </summary>
    internal virtual void Detach()
    {
    }

    /// <summary>
    /// Makes room for <paramref name="rows"/> rows in all, so appending a batch grows the buffer at most once
    /// instead of doubling through it (each doubling leaves the old buffer as garbage: about one cache's worth of
    /// extra peak memory after a prefill). An empty buffer gets exactly <paramref name="rows"/>; a used one at
    /// least doubles, so a long prompt's micro-batches still grow geometrically. Storages without a growable
    /// buffer ignore it.
    /// </summary>
    internal virtual void Reserve(int rows)
    {
    }

    /// <summary>Releases spare capacity (storage built once to its final size, e.g. a merged pair's directions).</summary>
    internal virtual void TrimExcess()
    {
    }

    /// <summary>
    /// Drops the <paramref name="count"/> oldest rows and keeps the buffer: a quantised format's full-precision tail
    /// sheds rows every few tokens and would otherwise shrink and regrow its buffer each time.
    /// </summary>
    internal virtual void RemoveOldest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)Count, nameof(count));
        int[] keep = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, Count - count));
        for (int j = 0; j < Count - count; j++) keep[j] = count + j;
        Keep(keep.AsSpan(0, Count - count));
        System.Buffers.ArrayPool<int>.Shared.Return(keep);
    }

    /// <summary>Creates an empty list in the given format.</summary>
    public static KvRows Create(KvStorageType type, int width) => type switch
    {
        KvStorageType.F32 => new F32KvRows(width),
        KvStorageType.F16 => new F16KvRows(width),
        KvStorageType.Kivi => throw new ArgumentException("KIVI rows are made from dense rows by a QuantizePlan (KvCache.Apply), not created empty by type", nameof(type)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV storage type"),
    };

    /// <summary>Checks a keep list: strictly increasing indices within [0, Count).</summary>
    protected void ValidateKeep(ReadOnlySpan<int> ascendingIndices)
    {
        int previous = -1;
        foreach (int i in ascendingIndices)
        {
            if (i <= previous || i >= Count)
                throw new ArgumentException($"keep indices must be strictly increasing within [0, {Count}); got {i} after {previous}");
            previous = i;
        }
    }

    /// <summary>New capacity for <paramref name="needed"/> rows: doubling growth, shrink when under a quarter used.</summary>
    protected static int GrowTo(int current, int needed) => Math.Max(needed, Math.Max(16, current * 2));

    /// <summary>Whether a buffer of <paramref name="capacity"/> rows is wastefully large for <paramref name="count"/>.</summary>
    protected static bool ShouldShrink(int capacity, int count) => capacity > 64 && count < capacity / 4;
}
