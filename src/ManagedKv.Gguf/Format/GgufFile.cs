namespace ManagedKv.Gguf;

/// <summary>
/// A GGUF v2/v3 file, opened by memory-mapping it. Opening validates the whole header (magic, version,
/// counts, every metadata value, every tensor entry, alignment and data bounds) against the file's size,
/// then exposes tensor data as zero-copy views into the map. Any defect raises
/// <see cref="GgufFormatException"/> naming the file, field and byte offset.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>The four magic bytes "GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Alignment of tensor data when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>Deepest nesting of arrays inside arrays that is accepted.</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>ggml's limit on tensor dimensions.</summary>
    public const int MaxDimensions = 4;

    /// <summary>Largest <c>general.alignment</c> accepted (1 MiB).</summary>
    public const int MaxAlignment = 1 << 20;

    /// <summary>The metadata key that sets the tensor data alignment (a uint32 power of two).</summary>
    public const string AlignmentKey = "general.alignment";

    private readonly GgufMemory _memory;
    private readonly Dictionary<string, int> _tensorIndexByName;

    private GgufFile(GgufMemory memory, string name, uint version, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyDictionary<string, GgufValue> byKey, IReadOnlyList<GgufTensorInfo> tensors, Dictionary<string, int> tensorIndexByName,
        int alignment, long dataOffset)
    {
        _memory = memory;
        FileName = name;
        Version = version;
        MetadataInOrder = metadata;
        Metadata = byKey;
        Tensors = tensors;
        _tensorIndexByName = tensorIndexByName;
        Alignment = alignment;
        DataOffset = dataOffset;
    }

    /// <summary>Path (or display name) of the file.</summary>
    public string FileName { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize => _memory.Length;

    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Alignment of tensor data (<c>general.alignment</c> or 32).</summary>
    public int Alignment { get; }

    /// <summary>Absolute offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>Metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder { get; }

    /// <summary>Tensor entries in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Opens and validates a GGUF file by memory-mapping it.</summary>
    /// <exception cref="GgufFormatException">The file is malformed or unsupported.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static GgufFile Open(string path)
    {
        var memory = GgufMemory.Map(path);
        try
        {
            return Parse(memory, path);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Parses a GGUF image held in memory (the array is pinned until disposal).</summary>
    public static GgufFile FromBytes(byte[] bytes, string displayName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var memory = GgufMemory.FromArray(bytes);
        try
        {
            return Parse(memory, displayName);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorIndexByName.TryGetValue(name, out int i) ? Tensors[i] : null;

    /// <summary>The tensor named <paramref name="name"/>; a missing tensor is a <see cref="GgufFormatException"/>.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new GgufFormatException(FileName, $"tensor \"{name}\"", -1, "required tensor is missing");

    /// <summary>Pointer to the first byte of a tensor's data in the map; valid until this file is disposed.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor) => _memory.Pointer + tensor.FileOffset;

    /// <summary>The tensor's data as a span (tensors over 2 GiB must use <see cref="GetTensorPointer"/>).</summary>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor) => _memory.Span(tensor.FileOffset, checked((int)tensor.ByteSize));

    /// <summary>The bytes of one row of a tensor.</summary>
    public ReadOnlySpan<byte> GetRowBytes(GgufTensorInfo tensor, long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, tensor.RowCount);
        return _memory.Span(tensor.FileOffset + row * tensor.RowBytes, checked((int)tensor.RowBytes));
    }

    /// <summary>A zero-copy view of the tensor named <paramref name="name"/>; a missing tensor is a <see cref="GgufFormatException"/>.</summary>
    public TensorView GetTensorView(string name) =>
        TryGetTensorView(name, out var view) ? view : throw new GgufFormatException(FileName, $"tensor \"{name}\"", -1, "required tensor is missing");

    /// <summary>A zero-copy view of the tensor named <paramref name="name"/>, or false when the file has no such tensor.</summary>
    public bool TryGetTensorView(string name, out TensorView view)
    {
        var t = FindTensor(name);
        view = t is null ? default : new TensorView(t.Name, t.Type, t.Dimensions, GetTensorPointer(t), FileName);
        return t is not null;
    }

    /// <summary>The whole file as bytes, for hashing and copying (files over 2 GiB throw).</summary>
    public ReadOnlySpan<byte> GetFileBytes() => _memory.Span(0, checked((int)_memory.Length));

    // ---- typed metadata access: a wrong type is a format error that names the key ----

    /// <summary>True if the key is present.</summary>
    public bool HasKey(string key) => Metadata.ContainsKey(key);

    /// <summary>A string value, or <paramref name="fallback"/> when absent.</summary>
    public string? GetString(string key, string? fallback = null) => Typed(key, fallback, v => v.AsString());

    /// <summary>An integer value that fits in int32, or <paramref name="fallback"/> when absent.</summary>
    public int? GetInt32(string key, int? fallback = null) => Typed(key, fallback, v => (int?)v.AsInt32());

    /// <summary>A numeric value as float, or <paramref name="fallback"/> when absent.</summary>
    public float? GetSingle(string key, float? fallback = null) => Typed(key, fallback, v => (float?)v.AsSingle());

    /// <summary>A bool value, or <paramref name="fallback"/> when absent.</summary>
    public bool? GetBool(string key, bool? fallback = null) => Typed(key, fallback, v => (bool?)v.AsBool());

    /// <summary>An array value, or null when absent.</summary>
    public GgufArray? GetArray(string key) => Typed<GgufArray?>(key, null, v => v.AsArray());

    private T Typed<T>(string key, T fallback, Func<GgufValue, T> convert)
    {
        if (!Metadata.TryGetValue(key, out var value)) return fallback;
        try
        {
            return convert(value);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException)
        {
            throw new GgufFormatException(FileName, $"metadata[\"{key}\"]", -1, e.Message, e);
        }
    }

    /// <summary>Writes a tensor's bytes to <paramref name="destination"/> straight from the map (any size).</summary>
    internal void CopyTensorTo(GgufTensorInfo tensor, Stream destination) => _memory.CopyTo(tensor.FileOffset, tensor.ByteSize, destination);

    /// <summary>Releases the memory map; tensor pointers and spans become invalid.</summary>
    public void Dispose() => _memory.Dispose();

    // ---- parsing ----

    // A tensor entry takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes, a metadata
    // pair at least 8 (key length) + 4 (type) + 1 (uint8 value), a nested array 4 (type) + 8 (count):
    // counts beyond what the remaining bytes can hold cannot be real and are rejected before anything is sized.
    private const int MinTensorInfoBytes = 24;
    private const int MinMetadataPairBytes = 13;
    private const int MinArrayBytes = 12;

    // Collections are pre-sized from the counts only up to this many entries, so a count that the file's
    // bytes merely seem to back (garbage behind it) costs nothing up front; real entries grow them.
    private const int MaxPresize = 4096;

    private readonly record struct TensorEntry(string Name, GgmlType Type, long[] Dims, long Offset, long OffsetAt);

    private static GgufFile Parse(GgufMemory memory, string file)
    {
        var c = new GgufCursor(memory, file, 0);
        uint magic = c.ReadU32("magic");
        if (magic != Magic)
            throw c.Error("magic", 0, $"not a GGUF file (magic 0x{magic:X8}, expected \"GGUF\")");
        long versionAt = c.Position;
        uint version = c.ReadU32("version");
        if (version is not (2 or 3))
        {
            string hint = version == 1 ? " (GGUF v1 is obsolete; re-convert the model)"
                : (version & 0xFFFF) == 0 && version != 0 ? " (a big-endian file?)" : "";
            throw c.Error("version", versionAt, $"unsupported GGUF version {version}{hint}; supported: 2, 3");
        }

        long tensorCount = c.ReadCount("tensor_count", MinTensorInfoBytes);
        long kvCount = c.ReadCount("metadata_kv_count", MinMetadataPairBytes);

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, MaxPresize));
        var byKey = new Dictionary<string, GgufValue>((int)Math.Min(kvCount, MaxPresize), StringComparer.Ordinal);
        int alignment = DefaultAlignment;
        for (long i = 0; i < kvCount; i++)
        {
            long keyAt = c.Position;
            string key;
            try
            {
                key = c.ReadString(".key");
            }
            catch (GgufFormatException e)
            {
                throw GgufCursor.Prefixed(e, $"metadata[{i}]");
            }
            try
            {
                if (byKey.ContainsKey(key)) throw c.Error("", keyAt, "duplicate metadata key");
                long typeAt = c.Position;
                uint type = c.ReadU32(".type");
                if (GgufValueTypes.FixedSize((GgufValueType)type) < 0)
                    throw c.Error(".type", typeAt, $"unknown value type {type}");
                long valueAt = c.Position;
                var value = ReadValue(ref c, (GgufValueType)type, depth: 0);
                if (key == AlignmentKey)
                {
                    if (value.Type != GgufValueType.UInt32)
                        throw c.Error(".type", typeAt, $"must be uint32, found {value.Type}");
                    uint a = (uint)value.Bits;
                    if (!IsValidAlignment(a))
                        throw c.Error("", valueAt, $"alignment {a} is not a power of two up to {MaxAlignment}");
                    alignment = (int)a;
                }
                byKey.Add(key, value);
                metadata.Add(new(key, value));
            }
            catch (GgufFormatException e)
            {
                throw GgufCursor.Prefixed(e, $"metadata[{Quoted(key)}]");
            }
        }

        var entries = new List<TensorEntry>((int)Math.Min(tensorCount, MaxPresize));
        var indexByName = new Dictionary<string, int>((int)Math.Min(tensorCount, MaxPresize), StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string? name = null;
            try
            {
                long entryAt = c.Position;
                name = c.ReadString(".name");
                if (!indexByName.TryAdd(name, entries.Count)) throw c.Error(".name", entryAt, "duplicate tensor name");
                entries.Add(ReadTensorInfo(ref c, name, alignment));
            }
            catch (GgufFormatException e)
            {
                throw GgufCursor.Prefixed(e, TensorField(i, name));
            }
        }

        long headerEnd = c.Position;
        long dataOffset = (headerEnd + alignment - 1) / alignment * alignment;
        long dataLength = memory.Length - dataOffset;

        var tensors = new GgufTensorInfo[entries.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            var (name, type, dims, offset, offsetAt) = entries[i];
            var t = new GgufTensorInfo { Name = name, Type = type, Dimensions = dims, RelativeOffset = offset, FileOffset = dataOffset + offset };
            long bytes = t.ByteSize;
            if (dataLength < 0 || offset > dataLength || bytes > dataLength - offset)
                throw c.Error(TensorField(i, name) + ".offset", offsetAt,
                    $"data [{dataOffset + offset}, {(decimal)dataOffset + offset + bytes}) lies outside the file ({memory.Length} bytes; file truncated?)");
            tensors[i] = t;
        }
        CheckNoOverlap(ref c, tensors, entries);

        return new GgufFile(memory, file, version, metadata, byKey, tensors, indexByName, alignment, dataOffset);
    }

    /// <summary>Reads the rest of a tensor entry after its name; field names in errors are relative to the entry.</summary>
    private static TensorEntry ReadTensorInfo(ref GgufCursor c, string name, int alignment)
    {
        long nDimsAt = c.Position;
        uint nDims = c.ReadU32(".n_dims");
        if (nDims > MaxDimensions) throw c.Error(".n_dims", nDimsAt, $"{nDims} dimensions; at most {MaxDimensions} are allowed");
        long[] dims = nDims == 0 ? [] : new long[nDims];
        // Product of the non-zero dimensions: bounding it (not just the true element count, which a zero
        // dimension makes 0) keeps RowLength, RowBytes and every partial product representable.
        long product = 1;
        for (int d = 0; d < nDims; d++)
        {
            long dimAt = c.Position;
            ulong ne = c.ReadU64(DimField(d));
            if (ne > long.MaxValue) throw c.Error(DimField(d), dimAt, $"dimension {ne} is negative as int64");
            dims[d] = (long)ne;
            if (ne != 0 && product > long.MaxValue / (long)ne)
                throw c.Error(DimField(d), dimAt, "element count overflows int64");
            if (ne != 0) product *= (long)ne;
        }
        long typeAt = c.Position;
        uint typeId = c.ReadU32(".type");
        var info = GgmlTypeInfo.TryGet((GgmlType)typeId)
            ?? throw c.Error(".type", typeAt, $"unknown tensor type {typeId}");
        long ne0 = nDims == 0 ? 1 : dims[0];
        if (ne0 % info.BlockSize != 0)
            throw c.Error(nDims == 0 ? ".n_dims" : ".dims[0]", nDims == 0 ? nDimsAt : nDimsAt + 4,
                $"row length {ne0} is not a multiple of {info.Type}'s block size {info.BlockSize}");
        if (product / info.BlockSize > long.MaxValue / info.BlockBytes)
            throw c.Error(".dims", nDimsAt + 4, "byte size overflows int64");
        long offsetAt = c.Position;
        ulong offset = c.ReadU64(".offset");
        if (offset > long.MaxValue) throw c.Error(".offset", offsetAt, $"offset {offset} overflows int64");
        if ((long)offset % alignment != 0)
            throw c.Error(".offset", offsetAt, $"offset {offset} is not a multiple of the alignment {alignment}");
        return new TensorEntry(name, (GgmlType)typeId, dims, (long)offset, offsetAt);
    }

    /// <summary>Tensors may appear in any order and leave gaps, but no two non-empty tensors may share bytes.</summary>
    private static void CheckNoOverlap(ref GgufCursor c, GgufTensorInfo[] tensors, List<TensorEntry> entries)
    {
        var starts = new long[tensors.Length];
        var order = new int[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) { starts[i] = tensors[i].RelativeOffset; order[i] = i; }
        Array.Sort(starts, order);
        int furthest = -1;          // the tensor reaching furthest so far: comparing with it, not just the
        long furthestEnd = 0;       // previous tensor, catches overlaps skipped over by empty or short tensors
        foreach (int i in order)
        {
            var t = tensors[i];
            long size = t.ByteSize;
            if (size == 0) continue;
            if (furthest >= 0 && t.RelativeOffset < furthestEnd)
                throw c.Error(TensorField(i, t.Name) + ".offset", entries[i].OffsetAt,
                    $"data [{t.RelativeOffset}, {t.RelativeOffset + size}) overlaps tensor {Quoted(tensors[furthest].Name)} [{tensors[furthest].RelativeOffset}, {furthestEnd}) (offsets relative to the data section)");
            if (t.RelativeOffset + size > furthestEnd || furthest < 0)
            {
                furthest = i;
                furthestEnd = t.RelativeOffset + size;
            }
        }
    }

    private static string TensorField(long index, string? name) => name is null ? $"tensor_infos[{index}]" : $"tensor_infos[{index}] {Quoted(name)}";

    /// <summary>
    /// A key or name in quotes for an error's field, elided past 64 characters: a corrupt length can make a
    /// "name" swallow megabytes of the file, and copying that into field and message would multiply it.
    /// </summary>
    private static string Quoted(string text) =>
        text.Length <= 64 ? $"\"{text}\"" : $"\"{text.AsSpan(0, 48)}…\" ({text.Length} chars)";

    private static string DimField(int d) => d switch { 0 => ".dims[0]", 1 => ".dims[1]", 2 => ".dims[2]", _ => ".dims[3]" };

    /// <summary>True for alignments this reader (and so <see cref="GgufWriter"/>) accepts.</summary>
    internal static bool IsValidAlignment(uint a) => a != 0 && (a & (a - 1)) == 0 && a <= MaxAlignment;

    /// <summary>
    /// Reads a value of <paramref name="type"/> at the cursor. Arrays of strings or arrays are walked in full
    /// (without allocating) so that later lazy decoding cannot meet a bad length. Field names in errors are
    /// relative to the value ("" is the value itself).
    /// </summary>
    internal static GgufValue ReadValue(ref GgufCursor c, GgufValueType type, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.Scalar(type, c.ReadU8(""));
            case GgufValueType.Int8: return GgufValue.Scalar(type, unchecked((ulong)(sbyte)c.ReadU8("")));
            case GgufValueType.Bool:
            {
                long at = c.Position;
                byte b = c.ReadU8("");
                if (b > 1) throw c.Error("", at, $"bool byte is {b}, expected 0 or 1");
                return GgufValue.Scalar(type, b);
            }
            case GgufValueType.UInt16: return GgufValue.Scalar(type, c.ReadU16(""));
            case GgufValueType.Int16: return GgufValue.Scalar(type, unchecked((ulong)(short)c.ReadU16("")));
            case GgufValueType.UInt32: return GgufValue.Scalar(type, c.ReadU32(""));
            case GgufValueType.Int32: return GgufValue.Scalar(type, unchecked((ulong)(int)c.ReadU32("")));
            case GgufValueType.Float32: return GgufValue.Scalar(type, c.ReadU32(""));
            case GgufValueType.UInt64: case GgufValueType.Int64: case GgufValueType.Float64:
                return GgufValue.Scalar(type, c.ReadU64(""));
            case GgufValueType.String: return GgufValue.FromString(c.ReadString(""));
            case GgufValueType.Array:
            {
                var elementType = SkipArray(ref c, depth, out long count, out long start);
                return GgufValue.FromArray(new GgufArray(c.Memory, c.File, elementType, count, start, c.Position - start));
            }
            default:
                throw c.Error("", c.Position, $"unknown value type {(uint)type}");
        }
    }

    /// <summary>
    /// Validates one array (element type, count, every element) and moves past it, allocating nothing.
    /// Arrays nest at most <see cref="MaxArrayDepth"/> deep, so the recursion is bounded.
    /// </summary>
    private static GgufValueType SkipArray(ref GgufCursor c, int depth, out long count, out long start)
    {
        if (depth >= MaxArrayDepth) throw c.Error("", c.Position, $"arrays nested deeper than {MaxArrayDepth}");
        long typeAt = c.Position;
        var elementType = (GgufValueType)c.ReadU32(".element_type");
        int size = GgufValueTypes.FixedSize(elementType);
        if (size < 0) throw c.Error(".element_type", typeAt, $"unknown array element type {(uint)elementType}");
        count = c.ReadCount(".count", size > 0 ? size : elementType == GgufValueType.String ? 8 : MinArrayBytes);
        start = c.Position;
        if (elementType == GgufValueType.Bool)
        {
            c.SkipBools(count, "");
        }
        else if (size > 0)
        {
            c.Position += count * size;     // ReadCount guaranteed the bytes exist
        }
        else
        {
            long i = 0;
            try
            {
                for (; i < count; i++)
                {
                    if (elementType == GgufValueType.String) c.SkipString("");
                    else SkipArray(ref c, depth + 1, out _, out _);
                }
            }
            catch (GgufFormatException e)
            {
                throw GgufCursor.Prefixed(e, $"[{i}]");
            }
        }
        return elementType;
    }
}
