using System.Buffers.Binary;
using System.Text.Json;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// Writes safetensors files: the 8-byte little-endian header length, the JSON header (padded with
/// spaces to a multiple of 8 bytes, as the reference writer does, so data starts 8-byte aligned), then
/// the tensors' bytes back to back in the order they were added. Used to build synthetic Hugging Face
/// checkpoints (tests, conversions); shapes are given as stored: row-major, outermost first.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>The <c>__metadata__</c> string map to write (omitted when empty).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Number of tensors added.</summary>
    public int Count => _tensors.Count;

    /// <summary>Total bytes of tensor data added.</summary>
    public long DataBytes { get; private set; }

    /// <summary>Names of the tensors added, in order.</summary>
    public IEnumerable<string> Names => _tensors.Select(t => t.Name);

    /// <summary>Adds a tensor from raw little-endian bytes (copied).</summary>
    /// <param name="name">Tensor name (unique, not <c>__metadata__</c>).</param>
    /// <param name="dtype">A safetensors dtype string, e.g. <c>F32</c>.</param>
    /// <param name="shape">Row-major shape, outermost first.</param>
    /// <param name="data">Exactly product(shape) × element size bytes.</param>
    /// <exception cref="ArgumentException">The name, dtype, shape or byte count is invalid.</exception>
    public SafetensorsWriter Add(string name, string dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == SafetensorsHeaderParser.MetadataKey) throw new ArgumentException($"\"{name}\" is reserved", nameof(name));
        int size = SafetensorsDType.ElementSize(dtype);
        if (size == 0) throw new ArgumentException($"unknown dtype \"{dtype}\"", nameof(dtype));
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}", nameof(shape));
            elements = checked(elements * d);
        }
        if (checked(elements * size) != data.Length)
            throw new ArgumentException($"tensor \"{name}\": {dtype} × ({string.Join(", ", shape.ToArray())}) needs {elements * size} bytes, got {data.Length}", nameof(data));
        if (!_names.Add(name)) throw new ArgumentException($"duplicate tensor name \"{name}\"", nameof(name));
        _tensors.Add((name, dtype, shape.ToArray(), data.ToArray()));
        DataBytes += data.Length;
        return this;
    }

    /// <summary>Adds an F32 tensor.</summary>
    public SafetensorsWriter AddF32(string name, ReadOnlySpan<float> values, params ReadOnlySpan<long> shape)
    {
        var bytes = new byte[checked(values.Length * 4)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return Add(name, "F32", shape, bytes);
    }

    /// <summary>Adds an F16 tensor.</summary>
    public SafetensorsWriter AddF16(string name, ReadOnlySpan<Half> values, params ReadOnlySpan<long> shape)
    {
        var bytes = new byte[checked(values.Length * 2)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), values[i]);
        return Add(name, "F16", shape, bytes);
    }

    /// <summary>Adds a BF16 tensor, rounding each float to the nearest bfloat16 (ties to even, as PyTorch does).</summary>
    public SafetensorsWriter AddBF16(string name, ReadOnlySpan<float> values, params ReadOnlySpan<long> shape)
    {
        var bytes = new byte[checked(values.Length * 2)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), ToBFloat16(values[i]));
        return Add(name, "BF16", shape, bytes);
    }

    /// <summary>
    /// Adds a copy of an F32/F16/BF16 <see cref="TensorView"/> under <paramref name="name"/>; the ggml
    /// dimensions are reversed into the row-major shape safetensors stores.
    /// </summary>
    /// <exception cref="ArgumentException">The view's type has no safetensors dtype.</exception>
    public SafetensorsWriter AddView(string name, TensorView view)
    {
        string dtype = SafetensorsDType.FromGgml(view.Type) ?? throw new ArgumentException($"tensor \"{view.Name}\": {view.Type} has no safetensors dtype", nameof(view));
        return Add(name, dtype, view.Dimensions.Reverse().ToArray(), view.Bytes);
    }

    /// <summary>The nearest bfloat16 (round to nearest, ties to even; NaN stays a quiet NaN).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The padded JSON header (without the 8-byte length prefix).</summary>
    public byte[] BuildHeader()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsHeaderParser.MetadataKey);
                foreach (var (k, v) in Metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, data) in _tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += data.Length;
            }
            json.WriteEndObject();
        }
        while (stream.Length % 8 != 0) stream.WriteByte((byte)' ');
        return stream.ToArray();
    }

    /// <summary>Writes the whole file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        byte[] header = BuildHeader();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var t in _tensors) stream.Write(t.Data);
    }

    /// <summary>Writes the whole file to <paramref name="path"/> (overwriting it).</summary>
    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        WriteTo(stream);
    }

    /// <summary>The whole file as bytes.</summary>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes F32 tensors given as (values, row-major shape) by name, in the dictionary's order.</summary>
    public static void WriteF32(string path, IEnumerable<KeyValuePair<string, (float[] Values, long[] Shape)>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var writer = new SafetensorsWriter();
        foreach (var (name, (values, shape)) in tensors) writer.AddF32(name, values, shape);
        if (metadata is not null)
            foreach (var (k, v) in metadata) writer.Metadata[k] = v;
        writer.Write(path);
    }

    /// <summary>
    /// Writes a <c>model.safetensors.index.json</c> mapping each tensor to its shard file name, with
    /// <c>metadata.total_size</c> set to <paramref name="totalSize"/>.
    /// </summary>
    public static void WriteIndex(string path, IEnumerable<KeyValuePair<string, string>> weightMap, long totalSize)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", totalSize);
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach (var (tensor, shard) in weightMap) json.WriteString(tensor, shard);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
