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

    private readonly GgufMemory _memory;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(GgufMemory memory, string name, uint version, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyList<GgufTensorInfo> tensors, int alignment, long dataOffset)
    {
        _memory = memory;
        FileName = name;
        Version = version;
        MetadataInOrder = metadata;
        Metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Tensors = tensors;
        _tensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
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
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

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

    /// <summary>Releases the memory map; tensor pointers and spans become invalid.</summary>
    public void Dispose() => _memory.Dispose();

    // ---- parsing ----

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

        // A tensor entry takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
        // a metadata pair at least 8 (key length) + 4 (type) + 1: counts beyond that cannot be real.
        long tensorCount = c.ReadCount("tensor_count", 24);
        long kvCount = c.ReadCount("metadata_kv_count", 13);

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, 1024));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            long keyAt = c.Position;
            string key = c.ReadString($"metadata[{i}].key");
            if (!keys.Add(key)) throw c.Error($"metadata[\"{key}\"]", keyAt, "duplicate metadata key");
            long typeAt = c.Position;
            uint type = c.ReadU32($"metadata[\"{key}\"].type");
            if (GgufValueTypes.FixedSize((GgufValueType)type) < 0)
                throw c.Error($"metadata[\"{key}\"].type", typeAt, $"unknown value type {type}");
            var value = ReadValue(ref c, (GgufValueType)type, $"metadata[\"{key}\"]", memory, file, 0);
            metadata.Add(new(key, value));
        }

        int alignment = DefaultAlignment;
        var alignmentPair = metadata.FirstOrDefault(kv => kv.Key == "general.alignment");
        if (alignmentPair.Value is { } alignValue)
        {
            if (alignValue.Type != GgufValueType.UInt32)
                throw c.Error("metadata[\"general.alignment\"]", -1, $"must be uint32, found {alignValue.Type}");
            uint a = alignValue.AsUInt32();
            if (a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
                throw c.Error("metadata[\"general.alignment\"]", -1, $"alignment {a} is not a power of two up to 1 MiB");
            alignment = (int)a;
        }

        var pending = new List<(string Name, GgmlType Type, long[] Dims, long Offset, long EntryAt)>((int)Math.Min(tensorCount, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            long entryAt = c.Position;
            string name = c.ReadString($"tensor_infos[{i}].name");
            string field = $"tensor_infos[{i}] \"{name}\"";
            if (!names.Add(name)) throw c.Error(field + ".name", entryAt, "duplicate tensor name");
            long nDimsAt = c.Position;
            uint nDims = c.ReadU32(field + ".n_dims");
            if (nDims > MaxDimensions) throw c.Error(field + ".n_dims", nDimsAt, $"{nDims} dimensions; at most {MaxDimensions} are allowed");
            var dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long dimAt = c.Position;
                ulong ne = c.ReadU64($"{field}.dims[{d}]");
                if (ne > long.MaxValue) throw c.Error($"{field}.dims[{d}]", dimAt, $"dimension {ne} is negative as int64");
                dims[d] = (long)ne;
                if (ne != 0 && elements > long.MaxValue / (long)ne)
                    throw c.Error($"{field}.dims[{d}]", dimAt, "element count overflows int64");
                elements *= (long)ne;
            }
            long typeAt = c.Position;
            uint typeId = c.ReadU32(field + ".type");
            var info = GgmlTypeInfo.TryGet((GgmlType)typeId)
                ?? throw c.Error(field + ".type", typeAt, $"unknown tensor type {typeId}");
            long ne0 = nDims == 0 ? 1 : dims[0];
            if (ne0 % info.BlockSize != 0)
                throw c.Error(field + ".dims[0]", nDimsAt + 4, $"row length {ne0} is not a multiple of {info.Type}'s block size {info.BlockSize}");
            if (elements / info.BlockSize > long.MaxValue / info.BlockBytes)
                throw c.Error(field + ".dims", nDimsAt + 4, "byte size overflows int64");
            long offsetAt = c.Position;
            ulong offset = c.ReadU64(field + ".offset");
            if (offset > long.MaxValue) throw c.Error(field + ".offset", offsetAt, $"offset {offset} overflows int64");
            if ((long)offset % alignment != 0)
                throw c.Error(field + ".offset", offsetAt, $"offset {offset} is not a multiple of the alignment {alignment}");
            pending.Add((name, (GgmlType)typeId, dims, (long)offset, offsetAt));
        }

        long headerEnd = c.Position;
        long dataOffset = (headerEnd + alignment - 1) / alignment * alignment;
        long dataLength = memory.Length - dataOffset;

        var tensors = new List<GgufTensorInfo>(pending.Count);
        foreach (var (name, type, dims, offset, at) in pending)
        {
            var t = new GgufTensorInfo { Name = name, Type = type, Dimensions = dims, RelativeOffset = offset, FileOffset = dataOffset + offset };
            long bytes = t.ByteSize;
            if (dataLength < 0 || offset > dataLength || bytes > dataLength - offset)
                throw c.Error($"tensor \"{name}\".offset", at,
                    $"data [{dataOffset + offset}, {dataOffset + offset + bytes}) lies outside the file ({memory.Length} bytes; file truncated?)");
            tensors.Add(t);
        }

        // Tensors may appear in any order but their bytes may not overlap.
        var byOffset = tensors.OrderBy(t => t.RelativeOffset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var prev = byOffset[i - 1];
            if (byOffset[i].RelativeOffset < prev.RelativeOffset + prev.ByteSize && byOffset[i].ByteSize > 0 && prev.ByteSize > 0)
                throw c.Error($"tensor \"{byOffset[i].Name}\".offset", -1, $"data overlaps tensor \"{prev.Name}\"");
        }

        return new GgufFile(memory, file, version, metadata, tensors, alignment, dataOffset);
    }

    internal static GgufValue ReadValue(ref GgufCursor c, GgufValueType type, string field, GgufMemory memory, string file, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.FromBits(type, c.ReadU8(field));
            case GgufValueType.Int8: return GgufValue.FromBits(type, unchecked((ulong)(sbyte)c.ReadU8(field)));
            case GgufValueType.Bool:
            {
                long at = c.Position;
                byte b = c.ReadU8(field);
                if (b > 1) throw c.Error(field, at, $"bool byte is {b}, expected 0 or 1");
                return GgufValue.FromBits(type, b);
            }
            case GgufValueType.UInt16:
            {
                uint lo = c.ReadU8(field), hi = c.ReadU8(field);
                return GgufValue.FromBits(type, lo | hi << 8);
            }
            case GgufValueType.Int16:
            {
                uint lo = c.ReadU8(field), hi = c.ReadU8(field);
                return GgufValue.FromBits(type, unchecked((ulong)(short)(lo | hi << 8)));
            }
            case GgufValueType.UInt32: return GgufValue.FromBits(type, c.ReadU32(field));
            case GgufValueType.Int32: return GgufValue.FromBits(type, unchecked((ulong)(int)c.ReadU32(field)));
            case GgufValueType.Float32: return GgufValue.FromBits(type, c.ReadU32(field));
            case GgufValueType.UInt64: case GgufValueType.Int64: case GgufValueType.Float64:
                return GgufValue.FromBits(type, c.ReadU64(field));
            case GgufValueType.String: return GgufValue.FromString(c.ReadString(field));
            case GgufValueType.Array:
            {
                if (depth >= MaxArrayDepth) throw c.Error(field, c.Position, $"arrays nested deeper than {MaxArrayDepth}");
                long typeAt = c.Position;
                var elementType = (GgufValueType)c.ReadU32(field + ".element_type");
                int size = GgufValueTypes.FixedSize(elementType);
                if (size < 0) throw c.Error(field + ".element_type", typeAt, $"unknown array element type {(uint)elementType}");
                long count = c.ReadCount(field + ".count", size > 0 ? size : elementType == GgufValueType.String ? 8 : 12);
                long start = c.Position;
                if (size > 0)
                {
                    c.Position += count * size;
                }
                else
                {
                    // Walk variable-size elements now so that later lazy decoding cannot meet a bad length.
                    for (long i = 0; i < count; i++)
                    {
                        if (elementType == GgufValueType.String) c.SkipString($"{field}[{i}]");
                        else ReadValue(ref c, GgufValueType.Array, $"{field}[{i}]", memory, file, depth + 1);
                    }
                }
                return GgufValue.FromArray(new GgufArray(memory, file, elementType, count, start, c.Position - start));
            }
            default:
                throw c.Error(field, c.Position, $"unknown value type {(uint)type}");
        }
    }
}
