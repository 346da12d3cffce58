namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// One tensor's entry in a safetensors header. <see cref="Shape"/> is as stored (row-major, outermost
/// first, as in PyTorch); <see cref="Dimensions"/> is the same shape in ggml order (reversed, ne[0]
/// contiguous), so a PyTorch weight of shape (out, in) has <c>Dimensions = [in, out]</c>.
/// </summary>
public sealed record SafetensorsTensorInfo
{
    /// <summary>Tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The dtype string as stored, e.g. <c>BF16</c>.</summary>
    public required string DType { get; init; }

    /// <summary>The ggml type the data is read as, or null when ManagedKv cannot compute with <see cref="DType"/>.</summary>
    public GgmlType? Type => SafetensorsDType.ToGgml(DType);

    /// <summary>Shape as stored: row-major, outermost dimension first.</summary>
    public required long[] Shape { get; init; }

    /// <summary>Shape in ggml order (reversed): ne[0] is the contiguous dimension.</summary>
    public long[] Dimensions => Shape.Reverse().ToArray();

    /// <summary>Start of the data, relative to the data section (<c>data_offsets[0]</c>).</summary>
    public required long DataBegin { get; init; }

    /// <summary>End of the data, relative to the data section (<c>data_offsets[1]</c>).</summary>
    public required long DataEnd { get; init; }

    /// <summary>Absolute byte offset of the data in the file.</summary>
    public required long FileOffset { get; init; }

    /// <summary>Byte offset in the file of this tensor's entry in the JSON header.</summary>
    public required long HeaderOffset { get; init; }

    /// <summary>Bytes of data.</summary>
    public long ByteSize => DataEnd - DataBegin;

    /// <summary>Product of the shape (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Shape as stored, e.g. <c>(512, 256)</c>.</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}
