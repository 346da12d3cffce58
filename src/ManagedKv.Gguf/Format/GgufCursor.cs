using System.Buffers.Binary;
using System.Text;

namespace ManagedKv.Gguf;

/// <summary>
/// A bounds-checked little-endian reader over the mapped file. Every read checks the bytes exist first and
/// throws <see cref="GgufFormatException"/> naming the field and offset; no read can run past the end.
/// </summary>
/// <remarks>
/// Field names passed in are usually relative (".count", "[3]", ""): callers that know the enclosing
/// path (<c>metadata["key"]</c>, <c>tensor_infos[2]</c>) prefix it with <see cref="Prefixed"/> while the
/// exception unwinds. That keeps the success path free of per-field string formatting, which would otherwise
/// allocate ~100 bytes for every 8-byte string of a vocabulary.
/// </remarks>
internal unsafe struct GgufCursor(GgufMemory memory, string file, long position)
{
    public long Position = position;

    public readonly GgufMemory Memory => memory;

    public readonly string File => file;

    public readonly long Remaining => memory.Length - Position;

    public readonly GgufFormatException Error(string field, long offset, string problem) => new(file, field, offset, problem);

    /// <summary>The same error with <paramref name="prefix"/> put in front of its field name.</summary>
    public static GgufFormatException Prefixed(GgufFormatException e, string prefix) =>
        new(e.FileName, prefix + e.Field, e.Offset, e.Problem, e.InnerException);

    private readonly void Need(long bytes, string field)
    {
        if (bytes < 0 || Remaining < bytes)
            throw Error(field, Position, $"needs {bytes} bytes but the file ends after {Math.Max(0, Remaining)} (file truncated?)");
    }

    public byte ReadU8(string field) { Need(1, field); return memory.Pointer[Position++]; }

    public ushort ReadU16(string field)
    {
        Need(2, field);
        ushort v = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(memory.Pointer + Position, 2));
        Position += 2;
        return v;
    }

    public uint ReadU32(string field)
    {
        Need(4, field);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(memory.Pointer + Position, 4));
        Position += 4;
        return v;
    }

    public ulong ReadU64(string field)
    {
        Need(8, field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(memory.Pointer + Position, 8));
        Position += 8;
        return v;
    }

    /// <summary>
    /// Moves past <paramref name="count"/> bool bytes, checking each is 0 or 1 (checked when the file opens so
    /// that decoding a bool array later cannot fail).
    /// </summary>
    public void SkipBools(long count, string field)
    {
        Need(count, field);
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(count - done, int.MaxValue);
            int bad = new ReadOnlySpan<byte>(memory.Pointer + Position + done, n).IndexOfAnyExcept((byte)0, (byte)1);
            if (bad >= 0)
            {
                long index = done + bad;
                throw Error($"[{index}]", Position + index, $"bool byte is {memory.Pointer[Position + index]}, expected 0 or 1");
            }
            done += n;
        }
        Position += count;
    }

    /// <summary>Reads a count and checks that <paramref name="minBytesEach"/> × count bytes can still follow.</summary>
    public long ReadCount(string field, long minBytesEach)
    {
        long at = Position;
        ulong n = ReadU64(field);
        if (n > long.MaxValue || (minBytesEach > 0 && n > (ulong)(Remaining / minBytesEach)))
            throw Error(field, at, $"count {n} needs at least {(minBytesEach > 0 && n <= long.MaxValue ? ((decimal)n * minBytesEach).ToString() : "more")} bytes but only {Remaining} remain");
        return (long)n;
    }

    /// <summary>Reads a GGUF string's length and returns the offset of its bytes, leaving the cursor after it.</summary>
    /// <param name="field">Name used for both a truncated length and a length that runs past the end.</param>
    public (long Offset, int Length) SkipString(string field)
    {
        long at = Position;
        ulong n = ReadU64(field);
        if (n > (ulong)Remaining)
            throw Error(field, at, $"string length {n} runs past the end of the file ({Remaining} bytes remain)");
        if (n > int.MaxValue) throw Error(field, at, $"string length {n} exceeds 2 GiB");
        long start = Position;
        Position += (long)n;
        return (start, (int)n);
    }

    public string ReadString(string field)
    {
        var (offset, length) = SkipString(field);
        return DecodeString(offset, length);
    }

    public readonly string DecodeString(long offset, int length) =>
        length == 0 ? string.Empty : Encoding.UTF8.GetString(memory.Span(offset, length));
}
