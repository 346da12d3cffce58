using System.Buffers.Binary;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// A safetensors file, opened by memory-mapping it. Layout: an 8-byte little-endian header length N,
/// N bytes of UTF-8 JSON (tensor name → dtype, shape, data_offsets; optional <c>__metadata__</c>
/// string map), then the data section, to which every <c>data_offsets</c> pair is relative.
/// Opening validates the whole header against the file (JSON syntax, duplicate keys, dtypes, shape
/// arithmetic, byte ranges, overlaps); any defect raises <see cref="GgufFormatException"/> naming the
/// file, field and byte offset. Tensor data is exposed as zero-copy <see cref="TensorView"/>s in ggml
/// order (the stored row-major shape reversed).
/// </summary>
/// <remarks>
/// Unlike the reference implementation, gaps between tensors' byte ranges are tolerated (they are
/// harmless to a reader); overlaps are not. Dtypes other than F32/F16/BF16 are validated for size
/// but refused when a view is requested.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Largest header accepted: 100 MiB (the reference Rust implementation caps it at 100 MB too).</summary>
    public const long MaxHeaderLength = 100L << 20;

    /// <summary>Bytes of the header-length prefix.</summary>
    public const int PrefixLength = 8;

    private readonly GgufMemory _memory;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsFile(GgufMemory memory, string name, long headerLength, IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        _memory = memory;
        FileName = name;
        HeaderLength = headerLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Path (or display name) of the file.</summary>
    public string FileName { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize => _memory.Length;

    /// <summary>Bytes of the JSON header (N).</summary>
    public long HeaderLength { get; }

    /// <summary>Absolute offset of the data section (8 + N).</summary>
    public long DataOffset => PrefixLength + HeaderLength;

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Opens and validates a safetensors file by memory-mapping it.</summary>
    /// <exception cref="GgufFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsFile Open(string path) => Load(GgufMemory.Map(path), path);

    /// <summary>Parses a safetensors image held in memory (the array is pinned until disposal).</summary>
    /// <exception cref="GgufFormatException">The bytes are malformed.</exception>
    public static SafetensorsFile FromBytes(byte[] bytes, string displayName = "<memory>") => Load(GgufMemory.FromArray(bytes), displayName);

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public SafetensorsTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>A view of the tensor named <paramref name="name"/>.</summary>
    /// <exception cref="GgufFormatException">The tensor is missing or its dtype is unsupported.</exception>
    public TensorView GetTensorView(string name) =>
        GetTensorView(FindTensor(name) ?? throw new GgufFormatException(FileName, $"tensor \"{name}\"", -1, "required tensor is missing"));

    /// <summary>
    /// A view of the tensor named <paramref name="name"/>, or false when the file has no such tensor.
    /// A tensor that exists with a dtype ManagedKv cannot read still throws: reporting it as missing
    /// would hide the real problem.
    /// </summary>
    /// <exception cref="GgufFormatException">The tensor exists but its dtype is unsupported.</exception>
    public bool TryGetTensorView(string name, out TensorView view)
    {
        var t = FindTensor(name);
        view = t is null ? default : GetTensorView(t);
        return t is not null;
    }

    /// <summary>A view of a tensor of this file.</summary>
    /// <exception cref="GgufFormatException">The dtype is one ManagedKv cannot compute with.</exception>
    public TensorView GetTensorView(SafetensorsTensorInfo tensor)
    {
        var type = tensor.Type ?? throw new GgufFormatException(FileName, $"header[\"{tensor.Name}\"].dtype", tensor.HeaderOffset,
            $"unsupported dtype {tensor.DType}; ManagedKv reads F32, F16 and BF16 tensors");
        return new TensorView(tensor.Name, type, tensor.Dimensions, _memory.Pointer + tensor.FileOffset, FileName);
    }

    /// <summary>Releases the memory map; views become invalid.</summary>
    public void Dispose() => _memory.Dispose();

    private static SafetensorsFile Load(GgufMemory memory, string file)
    {
        try
        {
            return Parse(memory, file);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    private static SafetensorsFile Parse(GgufMemory memory, string file)
    {
        if (memory.Length < PrefixLength)
            throw new GgufFormatException(file, "header_length", 0, $"file is {memory.Length} bytes; a safetensors file starts with an 8-byte header length (file truncated?)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(memory.Span(0, PrefixLength));
        if (n > MaxHeaderLength)
            throw new GgufFormatException(file, "header_length", 0, $"header length {n} exceeds the {MaxHeaderLength}-byte limit (not a safetensors file?)");
        if ((long)n > memory.Length - PrefixLength)
            throw new GgufFormatException(file, "header_length", 0, $"header length {n} runs past the end of the file ({memory.Length - PrefixLength} bytes follow; file truncated?)");
        long headerLength = (long)n;
        long dataOffset = PrefixLength + headerLength;
        long dataLength = memory.Length - dataOffset;

        var entries = new List<SafetensorsHeaderParser.Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        new SafetensorsHeaderParser(memory.Span(PrefixLength, (int)headerLength), file, PrefixLength).Parse(entries, metadata);

        var tensors = new List<SafetensorsTensorInfo>(entries.Count);
        foreach (var e in entries)
            tensors.Add(Validate(e, file, dataOffset, dataLength));

        // Entries may list tensors in any order, but their bytes may not overlap (empty tensors own no bytes).
        var byBegin = tensors.Where(t => t.ByteSize > 0).OrderBy(t => t.DataBegin).ToList();
        for (int i = 1; i < byBegin.Count; i++)
        {
            var prev = byBegin[i - 1];
            if (byBegin[i].DataBegin < prev.DataEnd)
                throw new GgufFormatException(file, $"header[\"{byBegin[i].Name}\"].data_offsets", byBegin[i].HeaderOffset,
                    $"bytes [{byBegin[i].DataBegin}, {byBegin[i].DataEnd}) overlap tensor \"{prev.Name}\" [{prev.DataBegin}, {prev.DataEnd})");
        }

        return new SafetensorsFile(memory, file, headerLength, tensors, metadata);
    }

    private static SafetensorsTensorInfo Validate(SafetensorsHeaderParser.Entry e, string file, long dataOffset, long dataLength)
    {
        string field = $"header[\"{e.Name}\"]";
        int size = SafetensorsDType.ElementSize(e.DType);
        if (size == 0) throw new GgufFormatException(file, field + ".dtype", e.DTypeAt, $"unknown dtype \"{e.DType}\"");

        long elements = 1;
        foreach (long d in e.Shape)
        {
            if (d != 0 && elements > long.MaxValue / d)
                throw new GgufFormatException(file, field + ".shape", e.ShapeAt, "element count overflows int64");
            elements *= d;
        }
        if (elements > long.MaxValue / size)
            throw new GgufFormatException(file, field + ".shape", e.ShapeAt, "byte size overflows int64");
        long bytes = elements * size;

        string offsets = $"{field}.data_offsets";
        if (e.Begin > e.End)
            throw new GgufFormatException(file, offsets, e.OffsetsAt, $"begin {e.Begin} is after end {e.End}");
        if (e.End > (ulong)dataLength)
            throw new GgufFormatException(file, offsets, e.OffsetsAt,
                $"end {e.End} lies outside the data section ({dataLength} bytes after the header; file truncated?)");
        long begin = (long)e.Begin, end = (long)e.End;
        if (end - begin != bytes)
            throw new GgufFormatException(file, offsets, e.OffsetsAt,
                $"range holds {end - begin} bytes but {e.DType} × ({string.Join(", ", e.Shape)}) needs {bytes}");

        return new SafetensorsTensorInfo
        {
            Name = e.Name,
            DType = e.DType,
            Shape = e.Shape,
            DataBegin = begin,
            DataEnd = end,
            FileOffset = dataOffset + begin,
            HeaderOffset = e.EntryAt,
        };
    }
}
