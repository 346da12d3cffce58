using ManagedKv.Model.Cache;

namespace ManagedKv.Gpu.Cache;

/// <summary>
/// The keys or the values of one KV head, stored in device memory in the head's slot of its layer's buffer
/// (<see cref="GpuKvLayer"/>). The forward pass writes rows on the device (<see cref="GpuKvLayer.AppendFromDevice"/>
/// stages them, then the cache's ordinary <c>Append</c> with an empty row commits one staged row, so positions and
/// checks stay in <see cref="KvHead"/>); a non-empty row is uploaded. <see cref="Read"/> downloads one row (the slow
/// path of host-side press code); <see cref="Keep"/> compacts on the device.
/// </summary>
public sealed class GpuKvRows : KvRows
{
    private int _staged; // rows written on the device beyond Count, not yet committed

    internal GpuKvRows(GpuKvLayer layer, int head, bool keys, int width) : base(width)
    {
        Layer = layer;
        Head = head;
        IsKeys = keys;
    }

    internal GpuKvLayer Layer { get; }

    internal int Head { get; }

    internal bool IsKeys { get; }

    /// <inheritdoc/>
    public override int Capacity => Layer.Capacity;

    /// <inheritdoc/>
    public override KvStorageType StorageType => Layer.StorageType;

    /// <inheritdoc/>
    public override int BytesPerRow => Width * Layer.ElementBytes;

    /// <summary>Marks <paramref name="rows"/> rows already written after the held ones; each empty Append commits one.</summary>
    internal void Stage(int rows) => _staged = rows;

    /// <inheritdoc/>
    public override void Append(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty && _staged > 0)
        {
            _staged--;
            Count++;
            return;
        }
        if (row.Length != Width) throw new ArgumentException($"row has {row.Length} elements, expected {Width}");
        Layer.Upload(this, Count, row, 1);
        Count++;
    }

    /// <inheritdoc/>
    public override void Read(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        Layer.Download(this, index, destination[..Width]);
    }

    /// <inheritdoc/>
    public override void Keep(ReadOnlySpan<int> ascendingIndices)
    {
        ValidateKeep(ascendingIndices);
        Layer.Compact(this, ascendingIndices);
        Count = ascendingIndices.Length;
        _staged = 0;
    }
}
