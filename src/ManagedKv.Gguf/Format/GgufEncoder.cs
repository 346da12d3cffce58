using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ManagedKv.Gguf;

/// <summary>
/// Little-endian GGUF primitives written to a stream through one buffer, counting the bytes written so that
/// padding can be computed without a seekable stream. Positions are relative to where the GGUF image starts.
/// </summary>
internal sealed class GgufEncoder(Stream target)
{
    /// <summary>UTF-8 that refuses unpaired surrogates instead of silently writing U+FFFD.</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _used;

    /// <summary>Bytes written so far.</summary>
    public long Position { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _buffer.Length - _used)
        {
            Flush();
            if (bytes.Length >= _buffer.Length)
            {
                target.Write(bytes);       // large blocks (tensor data) bypass the buffer
                Position += bytes.Length;
                return;
            }
        }
        bytes.CopyTo(_buffer.AsSpan(_used));
        _used += bytes.Length;
        Position += bytes.Length;
    }

    public void WriteU8(byte v) => Write([v]);

    public void WriteU16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        Write(b);
    }

    public void WriteU32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        Write(b);
    }

    public void WriteU64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        Write(b);
    }

    /// <summary>A GGUF string: uint64 byte length, then the UTF-8 bytes (no terminator).</summary>
    public void WriteString(string text)
    {
        int length = StrictUtf8.GetByteCount(text);
        WriteU64((ulong)length);
        if (length <= 256)
        {
            Span<byte> small = stackalloc byte[length];
            StrictUtf8.GetBytes(text, small);
            Write(small);
            return;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int n = StrictUtf8.GetBytes(text, rented);
            Write(rented.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Zero bytes up to the next multiple of <paramref name="alignment"/>.</summary>
    public void WritePadding(int alignment)
    {
        int pad = (int)((alignment - Position % alignment) % alignment);
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (pad > 0)
        {
            int n = Math.Min(pad, zeros.Length);
            Write(zeros[..n]);
            pad -= n;
        }
    }

    /// <summary>Hands buffered bytes to the target stream (and flushes it).</summary>
    public void Flush()
    {
        if (_used > 0) target.Write(_buffer, 0, _used);
        _used = 0;
    }
}
