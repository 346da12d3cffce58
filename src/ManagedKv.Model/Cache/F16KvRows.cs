using System.Numerics.Tensors;

namespace ManagedKv.Model.Cache;

/// <summary>Rows stored as IEEE half floats (round-to-nearest-even on the way in, like ggml's F16 cache).</summary>
public sealed class F16KvRows(int width) : DenseKvRows<Half>(width)
{
    /// <inheritdoc/>
    public override KvStorageType StorageType => KvStorageType.F16;

    /// <inheritdoc/>
    protected override void Encode(ReadOnlySpan<float> source, Span<Half> destination) => TensorPrimitives.ConvertToHalf(source, destination);

    /// <inheritdoc/>
    protected override void Decode(ReadOnlySpan<Half> source, Span<float> destination) => TensorPrimitives.ConvertToSingle(source, destination);
}
