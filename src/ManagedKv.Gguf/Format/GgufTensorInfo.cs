namespace ManagedKv.Gguf;

/// <summary>
/// One tensor's entry in a GGUF file. <see cref="Dimensions"/> are in ggml order: ne[0] is the
/// contiguous (fastest-varying) dimension, so a weight matrix of shape (out, in) has ne = [in, out].
/// </summary>
public sealed record GgufTensorInfo
{
    /// <summary>Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Element type of the stored data.</summary>
    public required GgmlType Type { get; init; }

    /// <summary>ggml dimensions ne[0..n), ne[0] contiguous.</summary>
    public required long[] Dimensions { get; init; }

    /// <summary>Offset of the data relative to the start of the data section.</summary>
    public required long RelativeOffset { get; init; }

    /// <summary>Absolute byte offset of the tensor's data in the file.</summary>
    public required long FileOffset { get; init; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);

    /// <summary>Elements per row (ne[0]).</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Number of rows (product of ne[1..]).</summary>
    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    /// <summary>Bytes of one row in the stored type.</summary>
    public long RowBytes => GgmlTypeInfo.Get(Type).RowBytes(RowLength);

    /// <summary>Bytes of the whole tensor in the stored type.</summary>
    public long ByteSize => RowBytes * RowCount;

    /// <summary>Shape in ggml order, e.g. <c>[256, 512]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
