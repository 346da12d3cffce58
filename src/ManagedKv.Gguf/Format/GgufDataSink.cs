namespace ManagedKv.Gguf;

/// <summary>
/// A write-only stream over the file being written that must receive exactly <paramref name="expectedBytes"/>:
/// a tensor data callback writes into one. Any byte beyond the size is refused at once (so a faulty callback
/// cannot shift every later tensor), and <see cref="GgufWriter"/> checks the count afterwards.
/// </summary>
/// <param name="encoder">Where accepted bytes go.</param>
/// <param name="what">Names the data in errors, e.g. <c>tensor "blk.0.attn_q.weight"</c>.</param>
/// <param name="expectedBytes">Exact number of bytes that must arrive.</param>
internal sealed class GgufDataSink(GgufEncoder encoder, string what, long expectedBytes) : Stream
{
    /// <summary>Bytes accepted so far.</summary>
    public long Written { get; private set; }

    /// <summary>True once a write past the expected size was refused.</summary>
    public bool Overran { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > expectedBytes - Written)
        {
            Overran = true;
            throw TooMany();
        }
        encoder.Write(buffer);
        Written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Throws <see cref="ArgumentException"/> unless exactly the expected bytes arrived and none were refused.</summary>
    public void CheckComplete(string shape)
    {
        if (Overran) throw TooMany();
        if (Written != expectedBytes)
            throw new ArgumentException($"{what}: the data callback wrote {Written} bytes, but {shape} takes {expectedBytes}");
    }

    private ArgumentException TooMany() =>
        new($"{what}: the data callback wrote more than the {expectedBytes} bytes its type and dimensions take");
}
