using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ManagedKv.Gguf;

/// <summary>
/// A metadata array. Arrays read from a file stay in the mapped bytes and decode on demand (the file was
/// validated when opened); arrays built in memory (for the writer) hold their elements.
/// </summary>
public sealed class GgufArray
{
    private readonly GgufMemory? _memory;
    private readonly string _file = "<memory>";
    private readonly long _offset;                 // first element's byte offset in the file
    private readonly IReadOnlyList<GgufValue>? _values;

    internal GgufArray(GgufMemory memory, string file, GgufValueType elementType, long count, long offset, long byteLength)
    {
        _memory = memory;
        _file = file;
        ElementType = elementType;
        Count = count;
        _offset = offset;
        ByteLength = byteLength;
    }

    private GgufArray(GgufValueType elementType, IReadOnlyList<GgufValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (GgufValueTypes.FixedSize(elementType) < 0) throw new ArgumentException($"unknown element type {(uint)elementType}", nameof(elementType));
        ElementType = elementType;
        Count = values.Count;
        _values = values;
        for (int i = 0; i < values.Count; i++)
        {
            var v = values[i] ?? throw new ArgumentException($"element {i} is null", nameof(values));
            if (v.Type != elementType) throw new ArgumentException($"array of {elementType} holds a {v.Type} at element {i}", nameof(values));
        }
    }

    /// <summary>Type of every element.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>Number of elements.</summary>
    public long Count { get; }

    /// <summary>Bytes the elements take in the file (0 for in-memory arrays).</summary>
    public long ByteLength { get; }

    /// <summary>The elements of an in-memory array (null for file-backed arrays).</summary>
    internal IReadOnlyList<GgufValue>? InMemoryValues => _values;

    /// <summary>Writes the encoded elements of a file-backed array exactly as they are stored.</summary>
    internal void CopyEncodedTo(Stream destination) => _memory!.CopyTo(_offset, ByteLength, destination);

    /// <summary>An in-memory array of the given element values (copied, so later changes to the list do not leak in).</summary>
    public static GgufArray Of(GgufValueType elementType, IReadOnlyList<GgufValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(elementType, values.ToArray());
    }

    /// <summary>An in-memory array of strings.</summary>
    public static GgufArray Of(IEnumerable<string> values) => new(GgufValueType.String, values.Select(GgufValue.FromString).ToArray());

    /// <summary>An in-memory array of float32.</summary>
    public static GgufArray Of(IEnumerable<float> values) => new(GgufValueType.Float32, values.Select(GgufValue.From).ToArray());

    /// <summary>An in-memory array of int32.</summary>
    public static GgufArray Of(IEnumerable<int> values) => new(GgufValueType.Int32, values.Select(GgufValue.From).ToArray());

    /// <summary>Decodes every element (strings, scalars or nested arrays).</summary>
    public IEnumerable<GgufValue> Elements()
    {
        if (_values is not null)
        {
            foreach (var v in _values) yield return v;
            yield break;
        }
        long position = _offset;
        for (long i = 0; i < Count; i++)
        {
            yield return ReadElement(ref position, i);
        }
    }

    // The bytes were validated when the file was opened, so this cannot fail unless the mapped file
    // changed underneath; the cursor's bounds checks still hold and the error names the element.
    private GgufValue ReadElement(ref long position, long index)
    {
        var cursor = new GgufCursor(_memory!, _file, position);
        try
        {
            var value = GgufFile.ReadValue(ref cursor, ElementType, depth: 1);
            position = cursor.Position;
            return value;
        }
        catch (GgufFormatException e)
        {
            throw GgufCursor.Prefixed(e, $"array[{index}]");
        }
    }

    /// <summary>String elements; throws <see cref="InvalidCastException"/> if the elements are not strings.</summary>
    public string[] ToStringArray()
    {
        Expect(GgufValueType.String);
        var result = new string[Count];
        if (_values is not null)
        {
            for (int i = 0; i < result.Length; i++) result[i] = _values[i].AsString();
            return result;
        }
        var cursor = new GgufCursor(_memory!, _file, _offset);
        int index = 0;
        try
        {
            for (; index < result.Length; index++) result[index] = cursor.ReadString("");
        }
        catch (GgufFormatException e)
        {
            throw GgufCursor.Prefixed(e, $"array[{index}]");
        }
        return result;
    }

    /// <summary>Numeric elements as float (float32/float64 or integer elements).</summary>
    public float[] ToSingleArray()
    {
        if (_values is null && ElementType == GgufValueType.Float32)
        {
            var raw = RawBytes();
            var result = new float[Count];
            for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
            return result;
        }
        return Elements().Select(v => v.AsSingle()).ToArray();
    }

    /// <summary>Integer elements as int32; a value outside int32 throws <see cref="OverflowException"/>.</summary>
    public int[] ToInt32Array()
    {
        if (_values is null && ElementType is GgufValueType.Int32 or GgufValueType.UInt32)
        {
            var raw = RawBytes();
            var result = new int[Count];
            for (int i = 0; i < result.Length; i++)
            {
                uint u = BinaryPrimitives.ReadUInt32LittleEndian(raw[(i * 4)..]);
                if (ElementType == GgufValueType.UInt32 && u > int.MaxValue) throw new OverflowException($"element {i} = {u} does not fit in int32");
                result[i] = unchecked((int)u);
            }
            return result;
        }
        return Elements().Select(v => v.AsInt32()).ToArray();
    }

    /// <summary>The raw little-endian element bytes of a file-backed array of a fixed-width type.</summary>
    public ReadOnlySpan<byte> RawBytes()
    {
        if (_memory is null) throw new InvalidOperationException("in-memory arrays have no raw bytes");
        if (GgufValueTypes.FixedSize(ElementType) <= 0) throw new InvalidCastException($"array of {ElementType} has no fixed-width raw bytes");
        return _memory.Span(_offset, checked((int)ByteLength));
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"[{ElementType} × {Count}]");
        if (ElementType != GgufValueType.Array && Count > 0)
            sb.Append(' ').Append(string.Join(", ", Elements().Take(4).Select(v => v.Type == GgufValueType.String ? $"\"{v}\"" : v.ToString()))).Append(Count > 4 ? ", …" : "");
        return sb.ToString();
    }

    private void Expect(GgufValueType type)
    {
        if (ElementType != type) throw new InvalidCastException($"array holds {ElementType}, not {type}");
    }
}
