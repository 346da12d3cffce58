namespace ManagedKv.Gguf;

/// <summary>
/// Writes GGUF v3 files in the layout of llama.cpp's <c>gguf_write</c> and gguf-py's <c>GGUFWriter</c>:
/// header, metadata in insertion order, tensor infos, zero padding to the alignment, then each tensor's data
/// in the order added, each padded with zeros to the alignment (the last one too). Tensor offsets are relative
/// to the data section. The alignment is <c>general.alignment</c> when that key is set (a uint32 power of two),
/// otherwise 32.
/// </summary>
/// <remarks>
/// Output is streamed: tensor data comes from a <see cref="ReadOnlyMemory{T}"/> or from a callback that writes
/// it when its turn comes, so a multi-GB model never has to sit in memory. Everything that can be checked
/// before writing is checked when it is added (<see cref="ArgumentException"/>); a data callback that writes
/// the wrong number of bytes fails the write with <see cref="ArgumentException"/>.
/// The rules enforced are those of llama.cpp's reader, so what this writes llama.cpp can load:
/// unique keys and tensor names, tensor names under 64 UTF-8 bytes, 0 to 4 dimensions each at least 1,
/// rows a whole number of blocks, arrays nested at most <see cref="GgufFile.MaxArrayDepth"/> deep.
/// </remarks>
public sealed class GgufWriter
{
    /// <summary>The GGUF version written.</summary>
    public const uint Version = 3;

    /// <summary>ggml's GGML_MAX_NAME: a tensor name must be shorter than this many UTF-8 bytes.</summary>
    public const int MaxTensorNameBytes = 64;

    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<Tensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record Tensor(string Name, GgmlType Type, long[] Dims, long ByteSize, ReadOnlyMemory<byte> Data, Action<Stream>? WriteData);

    /// <summary>Alignment of tensor data: <c>general.alignment</c> if set, otherwise 32.</summary>
    public int Alignment { get; private set; } = GgufFile.DefaultAlignment;

    /// <summary>Metadata in the order it will be written.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>Appends a metadata pair; the key must not be present yet.</summary>
    /// <exception cref="ArgumentException">Duplicate key, invalid value, or an invalid <c>general.alignment</c>.</exception>
    public void AddMetadata(string key, GgufValue value)
    {
        Validate(key, value);
        if (IndexOf(key) >= 0) throw new ArgumentException($"metadata key \"{key}\" was already added", nameof(key));
        _metadata.Add(new(key, value));
        OnMetadataChanged(key, value);
    }

    /// <summary>Replaces a metadata value in place (keeping its position), or appends the pair if the key is new.</summary>
    /// <exception cref="ArgumentException">Invalid value, or an invalid <c>general.alignment</c>.</exception>
    public void SetMetadata(string key, GgufValue value)
    {
        Validate(key, value);
        int i = IndexOf(key);
        if (i >= 0) _metadata[i] = new(key, value);
        else _metadata.Add(new(key, value));
        OnMetadataChanged(key, value);
    }

    /// <summary>Removes a metadata pair; returns false if the key was not present.</summary>
    public bool RemoveMetadata(string key)
    {
        int i = IndexOf(key);
        if (i < 0) return false;
        _metadata.RemoveAt(i);
        if (key == GgufFile.AlignmentKey) Alignment = GgufFile.DefaultAlignment;
        return true;
    }

    /// <summary>Adds a tensor whose data is already in memory (kept by reference until written).</summary>
    /// <param name="name">Unique tensor name, under 64 UTF-8 bytes.</param>
    /// <param name="type">Storage type.</param>
    /// <param name="dims">ggml dimensions, ne[0] contiguous (copied).</param>
    /// <param name="data">Exactly the bytes the type and dimensions call for.</param>
    /// <exception cref="ArgumentException">Invalid name, type or dimensions, or the data has the wrong length.</exception>
    public void AddTensor(string name, GgmlType type, long[] dims, ReadOnlyMemory<byte> data)
    {
        long size = ValidateTensor(name, type, dims);
        if (data.Length != size)
            throw new ArgumentException($"tensor \"{name}\": {type} {Shape(dims)} takes {size} bytes, but {data.Length} were given", nameof(data));
        Add(new Tensor(name, type, (long[])dims.Clone(), size, data, null));
    }

    /// <summary>
    /// Adds a tensor whose data is produced while the file is written: <paramref name="writeData"/> is called
    /// once, in tensor order, with a write-only stream, and must write exactly the tensor's byte size.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid name, type or dimensions.</exception>
    public void AddTensor(string name, GgmlType type, long[] dims, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long size = ValidateTensor(name, type, dims);
        Add(new Tensor(name, type, (long[])dims.Clone(), size, default, writeData));
    }

    /// <summary>
    /// A writer holding <paramref name="file"/>'s metadata (in order) and tensors (in file order, data read from
    /// the map when written, so the file must stay open until then). Writing it reproduces a file whose tensors
    /// are laid out contiguously in info order, as llama.cpp and gguf-py write them, byte for byte; arrays are
    /// copied as their stored bytes. Scalar strings and keys are re-encoded, so invalid UTF-8 in them becomes U+FFFD.
    /// </summary>
    /// <exception cref="ArgumentException">The file holds something llama.cpp would not load (see the class remarks).</exception>
    public static GgufWriter CopyFrom(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var writer = new GgufWriter();
        foreach (var (key, value) in file.MetadataInOrder) writer.AddMetadata(key, value);
        foreach (var tensor in file.Tensors)
        {
            var t = tensor;
            writer.AddTensor(t.Name, t.Type, t.Dimensions, stream => file.CopyTensorTo(t, stream));
        }
        return writer;
    }

    /// <summary>
    /// Writes the file to <paramref name="path"/>: into a temporary file beside it, renamed over the target only
    /// once complete, so a failed write never leaves a truncated model behind (or destroys an existing one).
    /// </summary>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.SequentialScan))
            {
                WriteTo(stream);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }   // best effort; the original error matters
            throw;
        }
    }

    /// <summary>
    /// Writes the GGUF image to <paramref name="stream"/> from its current position (need not be seekable).
    /// If a tensor callback fails, the stream holds a partial image.
    /// </summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("stream is not writable", nameof(stream));
        int alignment = Alignment;
        var e = new GgufEncoder(stream);

        e.WriteU32(GgufFile.Magic);
        e.WriteU32(Version);
        e.WriteU64((ulong)_tensors.Count);
        e.WriteU64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            e.WriteString(key);
            e.WriteU32((uint)value.Type);
            WriteValueBody(e, value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            e.WriteString(t.Name);
            e.WriteU32((uint)t.Dims.Length);
            foreach (long d in t.Dims) e.WriteU64((ulong)d);
            e.WriteU32((uint)t.Type);
            e.WriteU64((ulong)offset);
            offset = checked(offset + PaddedSize(t.ByteSize, alignment));
        }
        e.WritePadding(alignment);

        long dataStart = e.Position;
        foreach (var t in _tensors)
        {
            if (t.WriteData is null)
            {
                e.Write(t.Data.Span);
            }
            else
            {
                var sink = new GgufDataSink(e, $"tensor \"{t.Name}\"", t.ByteSize);
                t.WriteData(sink);
                sink.CheckComplete($"{t.Type} {Shape(t.Dims)}");
            }
            e.WritePadding(alignment);
        }
        // The offsets written in the infos must be where the data landed; this guards the layout code itself.
        if (e.Position - dataStart != offset)
            throw new InvalidOperationException($"internal layout error: data section is {e.Position - dataStart} bytes, infos promised {offset}");
        e.Flush();
        stream.Flush();
    }

    // ---- validation ----

    private void Add(Tensor tensor)
    {
        if (!_tensorNames.Add(tensor.Name)) throw new ArgumentException($"tensor \"{tensor.Name}\" was already added", "name");
        _tensors.Add(tensor);
    }

    private int IndexOf(string key) => _metadata.FindIndex(kv => kv.Key == key);

    private void OnMetadataChanged(string key, GgufValue value)
    {
        if (key == GgufFile.AlignmentKey) Alignment = (int)value.Bits;   // validated in Validate
    }

    private static void Validate(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        CheckEncodable(key, $"metadata key \"{key}\"");
        if (key == GgufFile.AlignmentKey)
        {
            if (value.Type != GgufValueType.UInt32)
                throw new ArgumentException($"{GgufFile.AlignmentKey} must be a uint32, not {value.Type}", nameof(value));
            if (!GgufFile.IsValidAlignment((uint)value.Bits))
                throw new ArgumentException($"{GgufFile.AlignmentKey} = {value.Bits} is not a power of two up to {GgufFile.MaxAlignment}", nameof(value));
        }
        ValidateValue(value, key, depth: 0);
    }

    /// <summary>Checks an in-memory value tree: encodable strings and nesting within the readers' limit.</summary>
    private static void ValidateValue(GgufValue value, string key, int depth)
    {
        if (value.Type == GgufValueType.String)
        {
            CheckEncodable(value.AsString(), $"metadata[\"{key}\"]: a string");
            return;
        }
        if (value.Type != GgufValueType.Array) return;
        if (depth >= GgufFile.MaxArrayDepth)
            throw new ArgumentException($"metadata[\"{key}\"]: arrays nested deeper than {GgufFile.MaxArrayDepth}", nameof(value));
        var values = value.AsArray().InMemoryValues;   // file-backed arrays were validated when their file opened
        if (values is null) return;
        foreach (var element in values) ValidateValue(element, key, depth + 1);
    }

    private static void CheckEncodable(string text, string what)
    {
        try
        {
            GgufEncoder.StrictUtf8.GetByteCount(text);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{what} is not valid UTF-16 (unpaired surrogate)", e);
        }
    }

    private static long ValidateTensor(string name, GgmlType type, long[] dims)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dims);
        CheckEncodable(name, $"tensor name \"{name}\"");
        int nameBytes = GgufEncoder.StrictUtf8.GetByteCount(name);
        if (nameBytes >= MaxTensorNameBytes)
            throw new ArgumentException($"tensor name \"{name}\" is {nameBytes} UTF-8 bytes; llama.cpp allows at most {MaxTensorNameBytes - 1}", nameof(name));
        var info = GgmlTypeInfo.TryGet(type) ?? throw new ArgumentException($"tensor \"{name}\": unknown ggml type {(uint)type}", nameof(type));
        if (dims.Length > GgufFile.MaxDimensions)
            throw new ArgumentException($"tensor \"{name}\": {dims.Length} dimensions; at most {GgufFile.MaxDimensions}", nameof(dims));
        long elements = 1;
        foreach (long d in dims)
        {
            // llama.cpp divides by each dimension when checking the shape, so 0 is rejected as well as negatives.
            if (d < 1) throw new ArgumentException($"tensor \"{name}\": dimension {d} in {Shape(dims)} is not positive", nameof(dims));
            if (elements > long.MaxValue / d) throw new ArgumentException($"tensor \"{name}\": element count of {Shape(dims)} overflows int64", nameof(dims));
            elements *= d;
        }
        long ne0 = dims.Length == 0 ? 1 : dims[0];
        if (ne0 % info.BlockSize != 0)
            throw new ArgumentException($"tensor \"{name}\": row length {ne0} is not a multiple of {type}'s block size {info.BlockSize}", nameof(dims));
        if (elements / info.BlockSize > (long.MaxValue - GgufFile.MaxAlignment) / info.BlockBytes)
            throw new ArgumentException($"tensor \"{name}\": byte size of {Shape(dims)} overflows int64", nameof(dims));
        return elements / info.BlockSize * info.BlockBytes;
    }

    // ---- encoding ----

    /// <summary>Writes a value without its type tag (the tag precedes top-level values only; array elements share one).</summary>
    private static void WriteValueBody(GgufEncoder e, GgufValue value)
    {
        switch (value.Type)
        {
            case GgufValueType.String:
                e.WriteString(value.AsString());
                return;
            case GgufValueType.Array:
            {
                var array = value.AsArray();
                e.WriteU32((uint)array.ElementType);
                e.WriteU64((ulong)array.Count);
                if (array.InMemoryValues is { } values)
                {
                    foreach (var element in values) WriteValueBody(e, element);
                }
                else
                {
                    // Stored bytes are already this encoding; copying them keeps a 150k-token vocabulary one block.
                    var sink = new GgufDataSink(e, "array", array.ByteLength);
                    array.CopyEncodedTo(sink);
                    sink.CheckComplete($"{array.ElementType} × {array.Count}");
                }
                return;
            }
            default:
                WriteScalar(e, value.Type, value.Bits);
                return;
        }
    }

    private static void WriteScalar(GgufEncoder e, GgufValueType type, ulong bits)
    {
        switch (GgufValueTypes.FixedSize(type))
        {
            case 1: e.WriteU8((byte)bits); break;
            case 2: e.WriteU16((ushort)bits); break;
            case 4: e.WriteU32((uint)bits); break;
            case 8: e.WriteU64(bits); break;
            default: throw new InvalidOperationException($"not a scalar type: {type}");
        }
    }

    private static long PaddedSize(long size, int alignment) => (size + alignment - 1) / alignment * alignment;

    private static string Shape(long[] dims) => "[" + string.Join(", ", dims) + "]";
}
