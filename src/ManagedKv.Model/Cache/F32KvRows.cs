namespace ManagedKv.Model.Cache;

/// <summary>Rows stored as f32.</summary>
public sealed class F32KvRows(int width) : DenseKvRows<float>(width)
{
    /// <inheritdoc/>
    public override KvStorageType StorageType => KvStorageType.F32;

    /// <inheritdoc/>
    protected override void Encode(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);

    /// <inheritdoc/>
    protected override void Decode(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
}
