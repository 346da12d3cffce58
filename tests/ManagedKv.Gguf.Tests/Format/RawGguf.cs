using System.Buffers.Binary;
using System.Text;

namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// Builds GGUF bytes by hand, field by field, so tests can write what no writer would (hostile headers) and
/// note the offset of the field they expect an error at.
/// </summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _bytes = new();

    /// <summary>Offset the next field will be written at.</summary>
    public long Position => _bytes.Position;

    public RawGguf Mark(out long at)
    {
        at = Position;
        return this;
    }

    public RawGguf U8(byte v)
    {
        _bytes.WriteByte(v);
        return this;
    }

    public RawGguf U16(ushort v) => Le(2, b => BinaryPrimitives.WriteUInt16LittleEndian(b, v));
    public RawGguf U32(uint v) => Le(4, b => BinaryPrimitives.WriteUInt32LittleEndian(b, v));
    public RawGguf U64(ulong v) => Le(8, b => BinaryPrimitives.WriteUInt64LittleEndian(b, v));
    public RawGguf I64(long v) => U64(unchecked((ulong)v));

    public RawGguf Bytes(ReadOnlySpan<byte> bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public RawGguf Zeros(int n) => Bytes(new byte[n]);

    /// <summary>A GGUF string: uint64 length then UTF-8 bytes.</summary>
    public RawGguf Str(string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        return U64((ulong)utf8.Length).Bytes(utf8);
    }

    /// <summary>Magic, version and the two counts.</summary>
    public RawGguf Header(ulong tensors, ulong kvs, uint version = 3) => U32(GgufFile.Magic).U32(version).U64(tensors).U64(kvs);

    /// <summary>A key and a type tag; the caller writes the value.</summary>
    public RawGguf Key(string key, GgufValueType type) => Str(key).U32((uint)type);

    /// <summary>An array header (element type and count); the caller writes the elements.</summary>
    public RawGguf ArrayHeader(GgufValueType elementType, ulong count) => U32((uint)elementType).U64(count);

    public RawGguf TensorInfo(string name, GgmlType type, ulong offset, params long[] dims)
    {
        Str(name).U32((uint)dims.Length);
        foreach (long d in dims) I64(d);
        return U32((uint)type).U64(offset);
    }

    public RawGguf PadTo(int alignment) => Zeros((int)((alignment - Position % alignment) % alignment));

    public byte[] ToArray() => _bytes.ToArray();

    private RawGguf Le(int size, SpanAction write)
    {
        Span<byte> b = stackalloc byte[size];
        write(b);
        _bytes.Write(b);
        return this;
    }

    private delegate void SpanAction(Span<byte> bytes);
}
