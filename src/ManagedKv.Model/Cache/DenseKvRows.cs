namespace ManagedKv.Model.Cache;

/// <summary>Rows stored element by element in an unquantised type <typeparamref name="T"/>.</summary>
public abstract class DenseKvRows<T>(int width) : KvRows(width) where T : unmanaged
{
    private T[] _data = []; // [capacity, width]

    /// <inheritdoc/>
    public override int Capacity => _data.Length / Width;

    /// <inheritdoc/>
    public override unsafe int BytesPerRow => Width * sizeof(T);

    /// <summary>The held rows, [Count, Width] row-major.</summary>
    public ReadOnlySpan<T> Data => _data.AsSpan(0, Count * Width);

    /// <summary>Converts f32 values into the storage type.</summary>
    protected abstract void Encode(ReadOnlySpan<float> source, Span<T> destination);

    /// <summary>Converts stored values back to f32.</summary>
    protected abstract void Decode(ReadOnlySpan<T> source, Span<float> destination);

    /// <inheritdoc/>
    public override void Append(ReadOnlySpan<float> row)
    {
        if (row.Length != Width) throw new ArgumentException($"row has {row.Length} elements, expected {Width}");
        if (Count == Capacity) Array.Resize(ref _data, GrowTo(Capacity, Count + 1) * Width);
        Encode(row, _data.AsSpan(Count * Width, Width));
        Count++;
    }

    /// <inheritdoc/>
    public override void Read(int index, Span<float> destination) =>
        Decode(Data.Slice(checked(index * Width), Width), destination[..Width]);

    /// <inheritdoc/>
    public override void ReadRows(int start, int count, Span<float> destination) =>
        Decode(Data.Slice(checked(start * Width), checked(count * Width)), destination[..(count * Width)]);

    /// <inheritdoc/>
    internal override void Reserve(int rows)
    {
        if (rows > Capacity) Array.Resize(ref _data, checked((Capacity == 0 ? rows : GrowTo(Capacity, rows)) * Width));
    }

    /// <inheritdoc/>
    internal override void TrimExcess()
    {
        if (_data.Length != Count * Width) Array.Resize(ref _data, Count * Width);
    }

    /// <inheritdoc/>
    internal override void RemoveOldest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)Count, nameof(count));
        _data.AsSpan(count * Width, (Count - count) * Width).CopyTo(_data);
        Count -= count;
    }

    /// <inheritdoc/>
    public override void Keep(ReadOnlySpan<int> ascendingIndices)
    {
        ValidateKeep(ascendingIndices);
        for (int j = 0; j < ascendingIndices.Length; j++)
            if (ascendingIndices[j] != j)
                _data.AsSpan(ascendingIndices[j] * Width, Width).CopyTo(_data.AsSpan(j * Width));
        Count = ascendingIndices.Length;
        if (ShouldShrink(Capacity, Count)) Array.Resize(ref _data, Count * Width);
    }
}
