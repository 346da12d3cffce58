namespace ManagedKv.Gguf;

/// <summary>
/// A zero-copy view of one tensor's stored bytes, the same for every file format (GGUF, safetensors).
/// <see cref="Dimensions"/> are in ggml order: ne[0] is contiguous, so a weight matrix of shape
/// (out, in) has <c>Dimensions = [in, out]</c>, one row per output feature.
/// </summary>
/// <remarks>
/// The view points into memory owned by the file that produced it (a memory map); it is valid only
/// until that file is disposed. Nothing is copied and nothing is allocated by <see cref="Row"/> or
/// <see cref="Bytes"/>. Safetensors data carries no alignment guarantee, so readers must not assume
/// <see cref="Data"/> is aligned to the element size.
/// </remarks>
public readonly unsafe struct TensorView
{
    /// <summary>
    /// Creates a view over <paramref name="data"/>; checks that the dimensions describe a valid layout
    /// of <paramref name="type"/> (at most 4 non-negative dimensions, rows a whole number of blocks,
    /// byte size within int64).
    /// </summary>
    /// <param name="name">Name of the tensor as stored in its file.</param>
    /// <param name="type">Stored element type.</param>
    /// <param name="dimensions">ggml dimensions, ne[0] contiguous (the array is copied).</param>
    /// <param name="data">First byte of the data; must stay valid for the view's lifetime.</param>
    /// <param name="sourceFile">The file holding the data, for error messages.</param>
    /// <exception cref="ArgumentException">The dimensions do not describe a valid tensor of <paramref name="type"/>.</exception>
    public TensorView(string name, GgmlType type, ReadOnlySpan<long> dimensions, byte* data, string sourceFile = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(name);
        var info = GgmlTypeInfo.TryGet(type) ?? throw new ArgumentException($"tensor \"{name}\": unknown ggml type id {(uint)type}", nameof(type));
        if (dimensions.Length > GgufFile.MaxDimensions)
            throw new ArgumentException($"tensor \"{name}\": {dimensions.Length} dimensions; at most {GgufFile.MaxDimensions} are allowed", nameof(dimensions));
        long elements = 1;
        foreach (long d in dimensions)
        {
            if (d < 0) throw new ArgumentException($"tensor \"{name}\": negative dimension {d}", nameof(dimensions));
            if (d != 0 && elements > long.MaxValue / d) throw new ArgumentException($"tensor \"{name}\": element count overflows int64", nameof(dimensions));
            elements *= d;
        }
        long rowLength = dimensions.Length == 0 ? 1 : dimensions[0];
        if (rowLength % info.BlockSize != 0)
            throw new ArgumentException($"tensor \"{name}\": row length {rowLength} is not a multiple of {type}'s block size {info.BlockSize}", nameof(dimensions));
        if (elements / info.BlockSize > long.MaxValue / info.BlockBytes)
            throw new ArgumentException($"tensor \"{name}\": byte size overflows int64", nameof(dimensions));

        Name = name;
        Type = type;
        Dimensions = dimensions.ToArray();
        Data = data;
        SourceFile = sourceFile;
        ElementCount = elements;
        RowLength = rowLength;
        RowCount = rowLength == 0 ? 0 : elements / rowLength;
        RowBytes = info.RowBytes(rowLength);
        ByteSize = RowBytes * RowCount;
    }

    /// <summary>Name of the tensor as stored in its file (a safetensors view keeps its Hugging Face name).</summary>
    public string Name { get; }

    /// <summary>Stored element type.</summary>
    public GgmlType Type { get; }

    /// <summary>ggml dimensions ne[0..n), ne[0] contiguous. Do not modify the array.</summary>
    public long[] Dimensions { get; }

    /// <summary>Pointer to the first data byte; valid until the owning file is disposed.</summary>
    public byte* Data { get; }

    /// <summary>The file (path or display name) that holds the data.</summary>
    public string SourceFile { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Elements per row (ne[0]; 1 for a scalar).</summary>
    public long RowLength { get; }

    /// <summary>Number of rows (product of ne[1..]).</summary>
    public long RowCount { get; }

    /// <summary>Bytes of one row in the stored type.</summary>
    public long RowBytes { get; }

    /// <summary>Bytes of the whole tensor.</summary>
    public long ByteSize { get; }

    /// <summary>Shape in ggml order, e.g. <c>[256, 512]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions ?? []) + "]";

    /// <summary>The bytes of row <paramref name="row"/> (0 ≤ row &lt; <see cref="RowCount"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row does not exist.</exception>
    /// <exception cref="InvalidOperationException">A row is larger than 2 GiB.</exception>
    public ReadOnlySpan<byte> Row(long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, RowCount);
        if (RowBytes > int.MaxValue) throw new InvalidOperationException($"tensor \"{Name}\": a row of {RowBytes} bytes does not fit in a span; use Data");
        return new ReadOnlySpan<byte>(Data + row * RowBytes, (int)RowBytes);
    }

    /// <summary>All the tensor's bytes as one span.</summary>
    /// <exception cref="InvalidOperationException">The tensor is larger than 2 GiB (use <see cref="Data"/> or <see cref="Row"/>).</exception>
    public ReadOnlySpan<byte> Bytes =>
        ByteSize <= int.MaxValue
            ? new ReadOnlySpan<byte>(Data, (int)ByteSize)
            : throw new InvalidOperationException($"tensor \"{Name}\" is {ByteSize} bytes, more than a span can hold; use Data or Row");

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Type} {ShapeText}";
}
